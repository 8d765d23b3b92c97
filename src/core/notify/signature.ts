// HMAC-SHA256 signatures over "<timestamp>.<body>" (Stripe's scheme): outgoing webhooks sign with it, receivers verify.
//
// Header: `Novascale-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
// A receiver recomputes the HMAC over the raw body it got, compares in constant time and refuses a `t` outside
// its tolerance (default 5 minutes), so a captured request cannot be replayed later.

export const SIGNATURE_HEADER = "Novascale-Signature";
export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The header value for `body` sent at `unixSeconds`. */
export async function signatureHeader(secret: string, unixSeconds: number, body: string): Promise<string> {
  return `t=${unixSeconds},v1=${await hmacHex(secret, `${unixSeconds}.${body}`)}`;
}

/** Compares two strings in time that depends only on their length (secrets, signatures). */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: "malformed" | "mismatch" | "expired" };

/** Checks a signature header against the raw body at `nowSeconds` (any `v1=` entry may match: key rotation). */
export async function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): Promise<Verification> {
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = parts.find(([k]) => k === "t")?.[1];
  const sigs = parts.flatMap(([k, v]) => (k === "v1" && v !== undefined ? [v] : []));
  if (t === undefined || !/^\d{1,12}$/.test(t) || sigs.length === 0) return { ok: false, reason: "malformed" };
  const timestamp = Number(t);
  const expected = await hmacHex(secret, `${t}.${body}`);
  if (!sigs.some((s) => constantTimeEqual(s, expected))) return { ok: false, reason: "mismatch" };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: "expired" };
  return { ok: true, timestamp };
}
