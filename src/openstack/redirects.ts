// Redirects, followed by the client itself: fetch's own following turns a POST into a GET on 301/302.
import { OpenStackError } from "./errors.ts";

/** keystoneauth follows up to 30; a real cloud needs one or two (http -> https, a moved prefix). */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

export interface Hop {
  method: string;
  url: string;
  /** Whether the body goes with the next request (not after a 303, which means "GET the answer there"). */
  keepBody: boolean;
}

/**
 * Where a redirect leads, keeping method and body (as keystoneauth does, unlike browsers) except for
 * 303. The request carries X-Auth-Token, so a redirect may only lead where that token already goes:
 * - the same host name, on any port (keystoneauth follows `https://host:5000` -> `https://host/identity`),
 * - or a host stated safe (`trusted`: the hosts of OS_AUTH_URL, the endpoint overrides and the catalog,
 *   which are sent the token anyway),
 * and never from https down to http. Anything else is refused clearly, naming where it led.
 */
export function nextHop(
  from: { method: string; url: string },
  status: number,
  location: string | null,
  hops: number,
  trusted: (hostname: string) => boolean = () => false,
): Hop {
  const refuse = (why: string) =>
    new OpenStackError({ method: from.method, url: from.url, status, kind: "redirectRefused", message: why, category: "config" });
  if (location === null || location.trim() === "") throw refuse(`HTTP ${status} redirect without a Location header`);
  let target: URL;
  try {
    target = new URL(location, from.url);
  } catch {
    throw refuse(`HTTP ${status} redirect to an unreadable Location`);
  }
  const origin = new URL(from.url);
  const where = `${target.protocol}//${target.host}${target.pathname}`;
  if (target.protocol !== "https:" && target.protocol !== "http:") throw refuse(`redirected to ${where}: not an http(s) URL`);
  if (origin.protocol === "https:" && target.protocol === "http:") {
    throw refuse(`redirected from https to ${where}: the token would travel unencrypted; fix the cloud's redirect or configure the https URL`);
  }
  const hostname = target.hostname.toLowerCase();
  if (hostname !== origin.hostname.toLowerCase() && !trusted(hostname)) {
    throw refuse(`redirected to ${where}, another server than the one configured (the request carries a token): set that URL in OS_AUTH_URL / OS_ENDPOINT_OVERRIDES instead`);
  }
  if (hops >= MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects (last to ${where})`);
  if (status === 303) return { method: from.method === "HEAD" ? "HEAD" : "GET", url: target.toString(), keepBody: false };
  return { method: from.method, url: target.toString(), keepBody: true };
}
