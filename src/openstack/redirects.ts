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
 * 303. Only to the same host and port (or the same host moving from http to https): the request carries
 * X-Auth-Token, and a redirect must not hand it to another server. Anything else is refused clearly.
 */
export function nextHop(from: { method: string; url: string }, status: number, location: string | null, hops: number): Hop {
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
  const sameServer = target.hostname === origin.hostname && (target.port === origin.port || (origin.protocol === "http:" && target.protocol === "https:"));
  const where = `${target.protocol}//${target.host}${target.pathname}`;
  if (!sameServer || (target.protocol !== "https:" && target.protocol !== "http:") || (origin.protocol === "https:" && target.protocol === "http:")) {
    throw refuse(`redirected to ${where}, another server than the one configured (the request carries a token): set that URL in OS_AUTH_URL / OS_ENDPOINT_OVERRIDES instead`);
  }
  if (hops >= MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects (last to ${where})`);
  if (status === 303) return { method: from.method === "HEAD" ? "HEAD" : "GET", url: target.toString(), keepBody: false };
  return { method: from.method, url: target.toString(), keepBody: true };
}
