/**
 * @module oauth/outbound-guard
 * The SSRF guard of every outbound request: provider URLs come from admins (the admin API,
 * latchkey.yaml) and could point Latchkey at the cloud metadata service or an internal host.
 * Only globally routable unicast addresses are reached, unless the operator's allow-list
 * (`outbound.allow_private`: CIDRs, addresses or host names) names the address or host. URLs
 * with credentials in them are refused outright.
 *
 * Checked twice: the URL's literal host and the name's resolution before a request is sent, and
 * again for the addresses the connection actually uses (the `lookup` of the connection), so a
 * name that resolves to a public address first and to 127.0.0.1 at connect time (DNS rebinding)
 * is still refused. Behind a proxy the proxy resolves and connects: only the first check runs.
 */

import type { LookupAddress, LookupOptions } from 'node:dns'
import { lookup as dnsLookup } from 'node:dns'
import ipaddr from 'ipaddr.js'

/** Names that reach metadata services without looking like a private address. */
const BLOCKED_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata'])

export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>

export const systemResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))))

export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'OutboundRefused'
  }
}

export class OutboundGuard {
  readonly #cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = []
  readonly #hosts = new Set<string>()
  readonly resolve: ResolveHost

  /** `allow`: CIDRs (`10.0.0.0/8`), addresses (`::1`) or host names (`idp.corp.example`). */
  constructor(allow: readonly string[], resolve: ResolveHost = systemResolve) {
    this.resolve = resolve
    for (const entry of allow) {
      const e = entry.trim().toLowerCase()
      if (e === '') continue
      if (e.includes('/')) this.#cidrs.push(ipaddr.parseCIDR(e))
      else if (ipaddr.isValid(e)) {
        const a = ipaddr.process(e)
        this.#cidrs.push([a, a.kind() === 'ipv4' ? 32 : 128])
      } else this.#hosts.add(e)
    }
  }

  /** Throws `OutboundRefused` for an allow-list entry that is neither a CIDR, an address nor a host name. */
  static validate(entry: string): void {
    const e = entry.trim()
    if (e.includes('/')) {
      try {
        ipaddr.parseCIDR(e)
      } catch {
        throw new OutboundRefused(`${JSON.stringify(entry)} is not a CIDR (e.g. 10.0.0.0/8)`)
      }
    } else if (!ipaddr.isValid(e) && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(e)) {
      throw new OutboundRefused(`${JSON.stringify(entry)} is not an address, a CIDR or a host name`)
    }
  }

  /** Why this address may not be reached, or undefined when it may. */
  addressRefusal(address: string): string | undefined {
    if (!ipaddr.isValid(address)) return `${address} is not an IP address`
    // IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    const a = ipaddr.process(address)
    if (this.#cidrs.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits))) return undefined
    const range = a.range()
    return range === 'unicast' ? undefined : `${address} is a ${range} address`
  }

  /** The synchronous part: credentials, blocked names and literal addresses in the URL. */
  checkUrl(raw: string | URL): URL {
    const url = typeof raw === 'string' ? new URL(raw) : raw
    if (url.username || url.password) throw new OutboundRefused(`${url.protocol}//…@${url.host}: URLs with credentials are refused`)
    const host = hostOf(url)
    if (this.#hosts.has(host)) return url
    if (BLOCKED_NAMES.has(host)) throw new OutboundRefused(`${host} is a metadata service; add it to outbound.allow_private to reach it`)
    if (ipaddr.isValid(host)) {
      const why = this.addressRefusal(host)
      if (why) throw new OutboundRefused(`${url.host}: ${why}; add it to outbound.allow_private to reach it`)
    }
    return url
  }

  /** Both checks before sending: the URL, then every address its name resolves to. */
  async check(raw: string | URL): Promise<void> {
    const url = this.checkUrl(raw)
    const host = hostOf(url)
    if (this.#hosts.has(host) || ipaddr.isValid(host)) return
    this.#refuseAny(host, await this.resolve(host))
  }

  #refuseAny(host: string, addresses: readonly LookupAddress[]): void {
    if (this.#hosts.has(host.toLowerCase())) return
    for (const { address } of addresses) {
      const why = this.addressRefusal(address)
      if (why) throw new OutboundRefused(`${host} resolves to ${why}; add it to outbound.allow_private to reach it`)
    }
  }

  /** A `net.connect` lookup that refuses a name resolving to any address the guard refuses. */
  connectLookup() {
    return (
      hostname: string,
      options: LookupOptions,
      callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
    ): void => {
      this.resolve(hostname).then(
        (addresses) => {
          try {
            this.#refuseAny(hostname, addresses)
          } catch (err) {
            return callback(err as Error, '')
          }
          const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses
          if (usable.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '')
          if (options.all) callback(null, usable)
          else callback(null, usable[0]!.address, usable[0]!.family)
        },
        (err: Error) => callback(err, ''),
      )
    }
  }
}

/** The URL's host without IPv6 brackets or a trailing dot, lower-case. */
function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase()
}
