/**
 * Summarizes a V8 `.cpuprofile` (from `--cpu-prof`): where a server process spent its time,
 * by area (a package under node_modules, a file under src/, Node internals, GC, idle) and by
 * function, as self time and as inclusive time (a function and everything it called).
 */
import { readFileSync } from 'node:fs'

interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: CpuProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  file: string
  totalMs: number
  /** Time not idle (what the load actually cost). */
  busyMs: number
  areas: Array<{ area: string; selfMs: number; pctOfBusy: number }>
  selfTop: Array<{ fn: string; selfMs: number; pctOfBusy: number }>
  inclusiveTop: Array<{ fn: string; totalMs: number; pctOfBusy: number }>
}

function area(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)'
    if (functionName === '(garbage collector)') return '(gc)'
    if (functionName === '(program)') return '(program: native/V8)'
    return '(native)'
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  const src = /\/(src|bench|test)\/(.+)$/.exec(url)
  if (src) return `${src[1]}/${src[2]}`
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  return url
}

function label(n: CpuProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame
  const where = url ? `${area(url, functionName)}:${lineNumber + 1}` : ''
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`
}

export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<number, number>()
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000
    total += dt
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt)
  }
  const areas = new Map<string, number>()
  const selfFn = new Map<string, number>()
  const inclFn = new Map<string, number>()
  let idle = 0
  for (const [id, ms] of self) {
    const n = byId.get(id)!
    const a = area(n.callFrame.url, n.callFrame.functionName)
    if (a === '(idle)') idle += ms
    areas.set(a, (areas.get(a) ?? 0) + ms)
    selfFn.set(label(n), (selfFn.get(label(n)) ?? 0) + ms)
    // Inclusive: every distinct frame on this sample's stack gets the sample's time once.
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!)
      if (seen.has(l)) continue
      seen.add(l)
      inclFn.set(l, (inclFn.get(l) ?? 0) + ms)
    }
  }
  const busy = total - idle
  const pct = (ms: number) => Math.round((ms / busy) * 1000) / 10
  const r = (ms: number) => Math.round(ms)
  return {
    file,
    totalMs: r(total),
    busyMs: r(busy),
    areas: [...areas]
      .filter(([a]) => a !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([a, ms]) => ({ area: a, selfMs: r(ms), pctOfBusy: pct(ms) })),
    selfTop: [...selfFn]
      .filter(([f]) => !f.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, ms]) => ({ fn, selfMs: r(ms), pctOfBusy: pct(ms) })),
    inclusiveTop: [...inclFn]
      .filter(([f]) => !/^\((root|idle|program|garbage collector)\)/.test(f))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top * 2)
      .map(([fn, ms]) => ({ fn, totalMs: r(ms), pctOfBusy: pct(ms) })),
  }
}

export function formatProfile(name: string, s: ProfileSummary): string {
  const lines = [`CPU profile of ${name} (${s.file}): ${s.totalMs} ms sampled, ${s.busyMs} ms busy`, '  self time by area:']
  for (const a of s.areas) lines.push(`    ${a.pctOfBusy.toFixed(1).padStart(5)} %  ${a.area}`)
  lines.push('  self time by function:')
  for (const f of s.selfTop) lines.push(`    ${f.pctOfBusy.toFixed(1).padStart(5)} %  ${f.fn}`)
  lines.push('  inclusive time by function:')
  for (const f of s.inclusiveTop) lines.push(`    ${f.pctOfBusy.toFixed(1).padStart(5)} %  ${f.fn}`)
  return lines.join('\n')
}
