// Bearer-token auth: named tokens with roles from Worker secrets, compared in constant time; 401 vs 403.
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { ROLES, type ApiEnv, type Caller, type Role } from "./context.ts";
import { ApiError } from "./errors.ts";

// Roles and the caller are declared with the context's typing (context.ts), which this middleware fills.
export { ROLES, type Caller, type Role };
export const RoleSchema = z.enum(ROLES);

const TOKEN_MIN_LENGTH = 16;
/** What a Bearer header can carry and BEARER below reads: visible ASCII, no spaces (RFC 6750's b64token is narrower still). */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

export const TokenEntrySchema = z
  .object({
    name: z.string().min(1).max(100),
    token: z
      .string()
      .min(TOKEN_MIN_LENGTH, `tokens need at least ${TOKEN_MIN_LENGTH} characters`)
      .max(4096)
      .regex(TOKEN_CHARACTERS, "tokens are visible ASCII without spaces or control characters (no Authorization header could carry this one)"),
    role: RoleSchema,
  })
  .strict();
export type TokenEntry = z.infer<typeof TokenEntrySchema>;

export const TokenListSchema = z.array(TokenEntrySchema).superRefine((entries, ctx) => {
  const names = new Set<string>();
  const tokens = new Set<string>();
  entries.forEach((entry, i) => {
    if (names.has(entry.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: "duplicate token name" });
    if (tokens.has(entry.token)) ctx.addIssue({ code: "custom", path: [i, "token"], message: "duplicate token" });
    names.add(entry.name);
    tokens.add(entry.token);
  });
});

/** The name the single local token (NOVASCALE_TOKEN) acts under. */
export const LOCAL_ADMIN_NAME = "local-admin";

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface TokenSources {
  NOVASCALE_TOKENS?: string | undefined;
  NOVASCALE_TOKEN?: string | undefined;
}

/**
 * Reads the configured tokens. Throws a 503 that names the variable, the entry and the field but never
 * quotes the input: messages are our own words or zod's for issue codes that carry no input (see issueText).
 */
export function configuredTokens(sources: TokenSources): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const local = sources.NOVASCALE_TOKEN?.trim();
  const list = sources.NOVASCALE_TOKENS?.trim();
  const refuse = (message: string): ApiError => new ApiError(503, "auth_misconfigured", message);
  if (list !== undefined && list !== "") {
    let raw: unknown;
    try {
      raw = JSON.parse(list);
    } catch {
      throw refuse("NOVASCALE_TOKENS is not valid JSON (expected [{\"name\",\"token\",\"role\"}])");
    }
    const parsed = TokenListSchema.safeParse(raw);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${issueText(i)}`).join("; ");
      throw refuse(`NOVASCALE_TOKENS is invalid: ${where}`);
    }
    entries.push(...parsed.data);
  }
  if (local !== undefined && local !== "") {
    const parsed = TokenEntrySchema.safeParse({ name: LOCAL_ADMIN_NAME, token: local, role: "admin" });
    if (!parsed.success) throw refuse(`NOVASCALE_TOKEN is invalid: ${parsed.error.issues.map(issueText).join("; ")}`);
    // The same token twice would match the first entry only: NOVASCALE_TOKEN's admin role would silently be lost.
    const same = entries.findIndex((e) => e.token === parsed.data.token);
    if (same >= 0) {
      throw refuse(`NOVASCALE_TOKEN is the same token as NOVASCALE_TOKENS entry ${same} ('${entries[same]!.name}'): one token has one role; remove one of them`);
    }
    const named = entries.findIndex((e) => e.name === LOCAL_ADMIN_NAME);
    if (named >= 0) throw refuse(`NOVASCALE_TOKENS entry ${named} is named '${LOCAL_ADMIN_NAME}', the name NOVASCALE_TOKEN acts under: rename it`);
    entries.push(parsed.data);
  }
  return entries;
}

/** Issue codes whose zod message holds no input (sizes, types, the allowed options, our own refinements). */
const INPUT_FREE_CODES: ReadonlySet<string> = new Set(["too_small", "too_big", "invalid_type", "invalid_value", "invalid_format", "custom"]);

/** An issue in words that never quote the input: an unknown key may be a pasted token. */
function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return "unknown field(s): only name, token and role are allowed";
  return INPUT_FREE_CODES.has(issue.code) ? issue.message : "invalid value";
}

const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * Finds the entry whose token equals `presented`. Both sides are hashed first so the comparison is
 * over equal-length digests, and every entry is compared (no early exit), so timing reveals neither
 * how much of a token matched nor which entry did.
 */
export async function findToken(entries: readonly TokenEntry[], presented: string): Promise<TokenEntry | undefined> {
  const wanted = await digest(presented);
  let match: TokenEntry | undefined;
  for (const entry of entries) {
    const candidate = await digest(entry.token);
    if (crypto.subtle.timingSafeEqual(candidate, wanted) && match === undefined) match = entry;
  }
  return match;
}

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

export interface BearerAuthOptions {
  /** Where the tokens come from; defaults to the Worker's NOVASCALE_TOKENS / NOVASCALE_TOKEN. */
  tokens?: (env: ApiEnv["Bindings"]) => TokenEntry[];
}

/** Authenticates the caller (401 on a missing, malformed or unknown token) and sets `caller`. */
export function bearerAuth(options: BearerAuthOptions = {}): MiddlewareHandler<ApiEnv> {
  const tokensOf = options.tokens ?? ((env) => configuredTokens(env));
  return async function bearerAuthMiddleware(c, next) {
    const entries = tokensOf(c.env);
    const header = c.req.header("Authorization");
    if (header === undefined) throw new ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)");
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) throw new ApiError(401, "unauthorized", "malformed Authorization header (expected: Bearer <token>)");
    const entry = await findToken(entries, presented);
    if (entry === undefined) throw new ApiError(401, "unauthorized", "unknown or revoked token");
    c.set("caller", { name: entry.name, role: entry.role });
    await next();
  };
}

/** Lets the request through only when the authenticated caller's role is at least `role` (else 403). */
export function requireRole(role: Role): MiddlewareHandler<ApiEnv> {
  return async function requireRoleMiddleware(c, next) {
    const caller = c.get("caller");
    if (!roleAtLeast(caller.role, role)) {
      throw new ApiError(403, "forbidden", `this needs the '${role}' role; token '${caller.name}' has '${caller.role}'`);
    }
    await next();
  };
}
