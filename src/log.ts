/**
 * @module log
 * pino with secrets redacted: authorization headers, token fields anywhere in a logged
 * object, and secret-bearing query parameters (`code`, `state`, tokens) in logged URLs.
 */
import { type DestinationStream, type Logger, pino } from 'pino'

const SECRET_KEYS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'code',
  'code_verifier',
  'token',
  'state',
  'password',
  'api_key',
  'apiKey',
  'secret',
]

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
]

const SENSITIVE_PARAMS = new Set(SECRET_KEYS)

/** Replaces the values of secret-bearing query parameters in a URL path. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const params = new URLSearchParams(url.slice(q + 1))
  for (const key of [...params.keys()]) if (SENSITIVE_PARAMS.has(key)) params.set(key, '[redacted]')
  return `${url.slice(0, q)}?${params.toString()}`
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          id: req.id,
          ip: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  )
}
