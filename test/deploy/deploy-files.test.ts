/**
 * @module test/deploy/deploy-files
 * The deployment files (Dockerfile, .dockerignore, compose.yaml, deploy/helm/latchkey) checked without
 * a container engine or a cluster: the Helm chart is rendered by a real `helm` binary and every
 * document is parsed as YAML and checked for the Kubernetes shape; the Dockerfile's commands are
 * compared with package.json and the README; the probe paths are asked of a real running server.
 * Nothing here builds an image or starts a container (there is no Docker engine on CI's machine).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { postgresRequired } from '../helpers/postgres.js'

const root = resolve(import.meta.dirname, '../..')
const read = (path: string) => readFileSync(resolve(root, path), 'utf8')
const chart = resolve(root, 'deploy/helm/latchkey')

// Rendered manifests are walked by key; typing each Kubernetes kind would only restate the checks.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Doc = Record<string, any>

// ---------------------------------------------------------------------------------------------
// Helm chart

/** A real helm: $LATCHKEY_HELM, `helm` on PATH, or /opt/helm/helm (scripts/install-helm.sh). */
function findHelm(): string | undefined {
  for (const candidate of [process.env['LATCHKEY_HELM'], 'helm', '/opt/helm/helm']) {
    if (!candidate) continue
    try {
      execFileSync(candidate, ['version', '--short'], { stdio: 'pipe' })
      return candidate
    } catch {}
  }
  return undefined
}
const helm = findHelm()
// Like PostgreSQL: in CI a missing helm is a failure, not a skip.
if (!helm && postgresRequired()) throw new Error('helm not found (run scripts/install-helm.sh); CI must check the chart')
if (!helm) console.warn('deploy-files: helm not found; the chart tests skip (scripts/install-helm.sh installs it)')

function render(...set: string[]): Doc[] {
  const out = execFileSync(helm!, ['template', 'rel', chart, ...set.flatMap((s) => ['--set', s])], { encoding: 'utf8' })
  const docs = parseAllDocuments(out)
  for (const d of docs) expect(d.errors, String(d.errors)).toEqual([])
  return docs.map((d) => d.toJS() as Doc).filter((d) => d !== null)
}

const byKind = (docs: Doc[], kind: string) => docs.filter((d) => d['kind'] === kind)

describe.skipIf(!helm)('Helm chart deploy/helm/latchkey', () => {
  it('passes helm lint', () => {
    expect(() => execFileSync(helm!, ['lint', chart, '--strict'], { stdio: 'pipe' })).not.toThrow()
  })

  it('renders a Deployment, Service and PodDisruptionBudget, each a well-formed Kubernetes object', () => {
    const docs = render()
    expect(docs.map((d) => d['kind']).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service'])
    const apiVersions: Record<string, string> = {
      Deployment: 'apps/v1',
      Service: 'v1',
      PodDisruptionBudget: 'policy/v1',
      HorizontalPodAutoscaler: 'autoscaling/v2',
    }
    for (const d of docs) {
      expect(d['apiVersion'], d['kind']).toBe(apiVersions[d['kind']])
      expect(d['metadata']?.['name'], d['kind']).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      expect(d['metadata']?.['labels']?.['app.kubernetes.io/name']).toBe('latchkey')
      expect(d['spec'], d['kind']).toBeTypeOf('object')
    }
  })

  it('runs the image as a non-root user, with probes, resources and the secret values by reference only', () => {
    const [deployment] = byKind(render(), 'Deployment')
    const pod = deployment!['spec']['template']
    expect(deployment!['spec']['selector']['matchLabels']).toEqual(expect.objectContaining(pod['metadata']['labels']))
    expect(pod['spec']['securityContext']['runAsNonRoot']).toBe(true)
    const [container, ...more] = pod['spec']['containers'] as Doc[]
    expect(more).toEqual([])
    expect(container!['image']).toMatch(/^latchkey:/)
    expect(container!['securityContext']['allowPrivilegeEscalation']).toBe(false)
    for (const probe of ['livenessProbe', 'readinessProbe']) {
      expect(container![probe]?.['httpGet']?.['path'], probe).toMatch(/^\/v1\//)
      expect(container![probe]['httpGet']['port'], probe).toBe('http')
    }
    expect(container!['ports']).toEqual([{ name: 'http', containerPort: 9099 }])
    expect(container!['resources']['requests']).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }))

    const env = Object.fromEntries((container!['env'] as Doc[]).map((e) => [e['name'], e]))
    expect(env['NODE_ENV']?.['value']).toBe('production')
    for (const name of ['DATABASE_URL', 'LATCHKEY_ENCRYPTION_KEYS']) {
      expect(env[name]?.['value'], `${name} must not be inlined`).toBeUndefined()
      expect(env[name]?.['valueFrom']?.['secretKeyRef'], name).toEqual({ name: 'latchkey', key: expect.any(String) })
    }
    // Every env var the chart sets is one Latchkey reads (a typo would be silently ignored).
    const config = read('src/config.ts')
    for (const name of Object.keys(env)) if (name !== 'NODE_ENV') expect(config, name).toContain(`${name}:`)
  })

  it('inlines no secret value anywhere and renders no Secret object', () => {
    const docs = render('env.LATCHKEY_LOG_LEVEL=debug')
    expect(byKind(docs, 'Secret')).toEqual([])
    const text = JSON.stringify(docs)
    expect(text).not.toMatch(/postgres(ql)?:\/\//)
    expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/) // a base64 32-byte key
  })

  it('selects the pods of the Deployment from the Service and the PodDisruptionBudget', () => {
    const docs = render()
    const podLabels = byKind(docs, 'Deployment')[0]!['spec']['template']['metadata']['labels']
    expect(podLabels).toEqual(expect.objectContaining(byKind(docs, 'Service')[0]!['spec']['selector']))
    expect(podLabels).toEqual(expect.objectContaining(byKind(docs, 'PodDisruptionBudget')[0]!['spec']['selector']['matchLabels']))
    expect(byKind(docs, 'Service')[0]!['spec']['ports'][0]['targetPort']).toBe('http')
  })

  it('with autoscaling, adds an HPA on the Deployment and leaves replicas to it', () => {
    const docs = render('autoscaling.enabled=true')
    const [hpa] = byKind(docs, 'HorizontalPodAutoscaler')
    const [deployment] = byKind(docs, 'Deployment')
    expect(hpa!['spec']['scaleTargetRef']).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment!['metadata']['name'] })
    expect(hpa!['spec']['minReplicas']).toBeLessThanOrEqual(hpa!['spec']['maxReplicas'])
    expect(deployment!['spec']['replicas']).toBeUndefined()
    expect(byKind(render('podDisruptionBudget.enabled=false'), 'PodDisruptionBudget')).toEqual([])
  })

  it('refuses to render without a public URL or a Secret name', () => {
    expect(() => render('publicUrl=')).toThrow(/publicUrl is required/)
    expect(() => render('secret.name=')).toThrow(/secret.name is required/)
  })
})

// ---------------------------------------------------------------------------------------------
// The probe paths the chart and the Dockerfile use are routes a running server answers.

describe('probe paths', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => {
    await h?.close()
  })

  it('answers 200 without an API key on every probe path', async () => {
    const values = parse(read('deploy/helm/latchkey/values.yaml')) as Doc
    const dockerfile = read('Dockerfile')
    const paths = new Set<string>([
      values['probes']['livenessPath'],
      values['probes']['readinessPath'],
      ...(dockerfile.match(/\/v1\/[a-z/]+/g) ?? []),
    ])
    expect(paths.size).toBeGreaterThan(0)
    for (const path of paths) expect((await fetch(`${h.baseURL}${path}`)).status, path).toBe(200)
  })
})

// ---------------------------------------------------------------------------------------------
// Dockerfile, .dockerignore, compose.yaml

interface Instruction {
  op: string
  args: string
}
/** Dockerfile instructions, continuation lines joined and comments dropped, split into stages. */
function dockerStages(text: string): Instruction[][] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
  const stages: Instruction[][] = [[]]
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line)
    if (!m) continue
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.trim().replace(/\s+/g, ' ') }
    if (ins.op === 'FROM') stages.push([])
    stages.at(-1)!.push(ins)
  }
  return stages
}

describe('Dockerfile', () => {
  const [preamble, build, final, ...extra] = dockerStages(read('Dockerfile'))
  const pkg = JSON.parse(read('package.json')) as {
    engines: { node: string }
    scripts: Record<string, string>
    bin: Record<string, string>
  }
  const runs = (stage: Instruction[] | undefined) =>
    (stage ?? [])
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join(' && ')

  it('has a build stage and a final stage on a Node line that engines supports', () => {
    expect(extra).toEqual([])
    const major = /^ARG NODE_VERSION=(\d+)$/.exec(preamble!.map((i) => `${i.op} ${i.args}`).join('\n'))?.[1]
    expect(major).toBeDefined()
    expect(pkg.engines.node).toContain(`^${major}.`)
    const base = ['node:$', '{NODE_VERSION}-bookworm-slim'].join('') // the Dockerfile's ARG, not a JS template
    expect(build![0]!.args).toBe(`${base} AS build`)
    expect(final![0]!.args).toBe(base)
  })

  it('builds from the lock file with the toolchain better-sqlite3 needs, with the build script of package.json', () => {
    const commands = runs(build)
    expect(commands).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+/)
    expect(commands).toMatch(/npm ci\b/)
    expect(build!.some((i) => i.op === 'COPY' && i.args === 'package.json package-lock.json ./')).toBe(true)
    expect(commands).toContain('npm run build')
    expect(pkg.scripts['build']).toBeDefined()
    // Dev dependencies are pruned after the build and before the final stage copies node_modules.
    expect(commands.indexOf('npm prune --omit=dev')).toBeGreaterThan(commands.indexOf('npm run build'))
    // …and the optional demo-only dependency (oidc-provider) with them.
    expect(commands).toContain('npm prune --omit=dev --omit=optional')
    expect(final!.some((i) => i.op === 'COPY' && i.args === '--from=build /app/node_modules ./node_modules')).toBe(true)
    expect(runs(final)).not.toMatch(/npm (ci|install)|apt-get/)
  })

  it('runs as a non-root user in production mode, with a health check and the serve command of the README', () => {
    const ops = (op: string) => final!.filter((i) => i.op === op).map((i) => i.args)
    expect(ops('USER')).toEqual(['node'])
    expect(ops('ENV').join(' ')).toMatch(/\bNODE_ENV=production\b/)
    expect(ops('ENV').join(' ')).toMatch(/\bLATCHKEY_HOST=0\.0\.0\.0\b/)
    expect(ops('HEALTHCHECK').join(' ')).toContain('/v1/health')
    // CMD is `latchkey serve` through package.json's bin entry, as the README's deployment section runs it.
    const cmd = JSON.parse(ops('CMD')[0]!) as string[]
    expect(cmd).toEqual(['node', pkg.bin['latchkey']!.replace(/^\.\//, ''), 'serve'])
    const deployment = read('README.md').split('## Deployment on PostgreSQL')[1]!.split('\n## ')[0]!
    expect(deployment).toContain('npx latchkey serve')
  })

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
    for (const must of ['node_modules', '.env', '*.env', 'data', '.git']) expect(ignored, must).toContain(must)
    const sources = [...build!, ...final!]
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(' ').slice(0, -1))
    expect(sources.length).toBeGreaterThan(0)
    for (const s of sources) {
      expect(existsSync(resolve(root, s)), s).toBe(true)
      expect(ignored, s).not.toContain(s)
    }
  })
})

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as Doc

  it('runs two Latchkey replicas on PostgreSQL, healthy database first, secrets from env files', () => {
    const latchkey = compose['services']['latchkey']
    expect(latchkey['build']).toBe('.')
    expect(latchkey['deploy']['replicas']).toBe(2)
    expect(latchkey['depends_on']['db']['condition']).toBe('service_healthy')
    expect(compose['services']['db']['image']).toMatch(/^postgres:\d+/)
    expect(compose['services']['db']['healthcheck']['test'].join(' ')).toContain('pg_isready')
    expect(latchkey['environment']['NODE_ENV']).toBe('production')
    // Nothing secret is written in compose.yaml itself.
    const inline = Object.keys(latchkey['environment'])
    expect(inline.filter((k) => /(_URL|_KEYS?|SECRET|PASSWORD)$/.test(k) && k !== 'LATCHKEY_PUBLIC_URL')).toEqual([])
  })

  it('names env files that are git-ignored, with examples listing variables Latchkey and postgres read', () => {
    const config = read('src/config.ts')
    for (const service of ['latchkey', 'db']) {
      for (const { path } of compose['services'][service]['env_file'] as Array<{ path: string }>) {
        expect(() => execFileSync('git', ['check-ignore', '-q', path], { cwd: root })).not.toThrow()
        const example = read(`${path}.example`)
        const names = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!)
        expect(names.length).toBeGreaterThan(0)
        for (const name of names) {
          if (service === 'latchkey') expect(config, name).toContain(`${name}:`)
          else expect(name).toMatch(/^POSTGRES_(USER|DB|PASSWORD)$/)
        }
        expect(example).not.toMatch(/[A-Za-z0-9+/]{43}=/)
      }
    }
  })
})
