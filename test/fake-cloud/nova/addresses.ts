// Fake Nova's address calls: GET /servers/{id}/ips[/{network}] and the access IPs that boot, update and rebuild set.
import { json, novaError } from "../http.ts";
import type { FakeServer } from "../model.ts";
import { type Handler, invalidInput } from "./context.ts";
import { withServer } from "./metadata.ts";

/** Nova's ips view shows only version and address (no OS-EXT-IPS keys, unlike the server view). */
function ipsView(s: FakeServer): Record<string, Array<{ version: number; addr: string }>> {
  const out: Record<string, Array<{ version: number; addr: string }>> = {};
  for (const a of s.addresses) (out[a.network] ??= []).push({ version: 4, addr: a.addr });
  return out;
}

export function ipsRoute(method: string, network: string | undefined): Handler | undefined {
  if (method !== "GET") return undefined;
  if (network === undefined) return (n, [, id]) => withServer(n, id, (s) => json(200, { addresses: ipsView(s) }));
  return (n, [, id]) =>
    withServer(n, id, (s) => {
      const found = ipsView(s)[network];
      return found === undefined ? novaError(404, "Instance is not a member of specified network") : json(200, { [network]: found });
    });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** netaddr's strict dotted quad, as Nova's `format: ipv4` checks it. */
export function validIPv4(v: string): boolean {
  return IPV4.test(v);
}

/** The compressed form of an IPv6 address (as Nova's IPAddress column stores it), or undefined when invalid. */
export function normalIPv6(v: string): string | undefined {
  if (!v.includes(":") || /[^0-9a-fA-F:.]/.test(v)) return undefined;
  try {
    const host = new URL(`http://[${v}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * Reads accessIPv4/accessIPv6 from a boot, update or rebuild body; a Response is Nova's 400 (schema
 * `format: ipv4`/`ipv6`, so an empty string or a host name is refused too).
 */
export function parseAccessIPs(body: Record<string, unknown>): { accessIPv4?: string; accessIPv6?: string } | Response {
  const out: { accessIPv4?: string; accessIPv6?: string } = {};
  const v4 = body.accessIPv4;
  if (v4 !== undefined) {
    if (typeof v4 !== "string") return invalidInput("accessIPv4", v4, "is not of type 'string'");
    if (!validIPv4(v4)) return invalidInput("accessIPv4", v4, `'${v4}' is not a 'ipv4'`);
    out.accessIPv4 = v4;
  }
  const v6 = body.accessIPv6;
  if (v6 !== undefined) {
    if (typeof v6 !== "string") return invalidInput("accessIPv6", v6, "is not of type 'string'");
    const normal = normalIPv6(v6);
    if (normal === undefined) return invalidInput("accessIPv6", v6, `'${v6}' is not a 'ipv6'`);
    out.accessIPv6 = normal;
  }
  return out;
}
