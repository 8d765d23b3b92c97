// Bearer-token auth: named tokens with roles from Worker secrets, compared in constant time; 401 vs 403.
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { ROLES, type ApiEnv, type Caller, type Role } from "./context.ts";
import { ApiError } from "./errors.ts";

// Roles and the caller are declared with the context's typing (context.ts), which this middleware fills.
export { ROLES, type Caller, type Role };
export const RoleSchema = z.enum(ROLES);

const TOKEN_MIN_LENGTH = 16;

export const TokenEntrySchema = z
  .object({
    name: z.string().min(1).max(100),
    token: z.string().min(TOKEN_MIN_LENGTH, `tokens need at least ${TOKEN_MIN_LENGTH} characters`).max(4096),
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
 * Reads the configured tokens. Throws a 503 that names the variable but never quotes it: a typo in a
 * secret must not leak the secret through an error message. Zod issues carry paths, not values.
 */
export function configuredTokens(sources: TokenSources): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const list = sources.NOVASCALE_TOKENS?.trim();
  if (list !== undefined && list !== "") {
    let raw: unknown;
    try {
      raw = JSON.parse(list);
    } catch {
      throw new ApiError(503, "auth_misconfigured", "NOVASCALE_TOKENS is not valid JSON (expected [{\"name\",\"token\",\"role\"}])");
    }
    const parsed = TokenListSchema.safeParse(raw);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
      throw new ApiError(503, "auth_misconfigured", `NOVASCALE_TOKENS is invalid: ${where}`);
    }
    entries.push(...parsed.data);
  }
  const local = sources.NOVASCALE_TOKEN?.trim();
  if (local !== undefined && local !== "") {
    const parsed = TokenEntrySchema.safeParse({ name: LOCAL_ADMIN_NAME, token: local, role: "admin" });
    if (!parsed.success) throw new ApiError(503, "auth_misconfigured", `NOVASCALE_TOKEN is invalid: it needs at least ${TOKEN_MIN_LENGTH} characters`);
    entries.push(parsed.data);
  }
  return entries;
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
