// Group rules in KV: one key per group (`group:<name>`), a versioned envelope, ETag / If-Match semantics.
import { z } from "zod";
import { GroupRulesSchema, type GroupRules } from "../config/group.ts";

export const RULES_KEY_PREFIX = "group:";
export const RULES_ENVELOPE_VERSION = 1;

export function rulesKey(name: string): string {
  return `${RULES_KEY_PREFIX}${name}`;
}

/** The stored value. `version` lets a later format be migrated on read instead of misread. */
export const RulesEnvelopeSchema = z
  .object({
    version: z.literal(RULES_ENVELOPE_VERSION),
    rules: GroupRulesSchema,
    etag: z.string().min(1),
    updatedAt: z.iso.datetime({ offset: true }),
    updatedBy: z.string().min(1),
  })
  .strict();
export type RulesEnvelope = z.infer<typeof RulesEnvelopeSchema>;

/**
 * KV key metadata (returned by list() for free): lets a tick see which groups changed without
 * reading every value, so a steady minute costs one list() instead of one get() per group.
 */
export const RulesKeyMetadataSchema = z.object({ etag: z.string(), updatedAt: z.string().optional(), updatedBy: z.string().optional() });
export type RulesKeyMetadata = z.infer<typeof RulesKeyMetadataSchema>;

/** A group read from KV: its envelope, or the reason it could not be read (a corrupt value is reported, not thrown). */
export type ReadGroupResult =
  | { ok: true; name: string; envelope: RulesEnvelope }
  | { ok: false; name: string; problem: string };

/** Quoted strong ETag over the canonical rules JSON: identical rules give the identical tag. */
export async function rulesEtag(rules: GroupRules): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(rules));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
  return `"${hex}"`;
}

/** The opaque part of an entity tag: strips W/ and the quotes, so `W/"x"`, `"x"` and `x` compare equal. */
function opaqueTag(tag: string): string {
  const trimmed = tag.trim().replace(/^W\//, "");
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2 ? trimmed.slice(1, -1) : trimmed;
}

/** Does an If-Match / If-None-Match header value match the current etag (undefined: no such resource)? */
export function etagMatches(header: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  const candidates = header.split(",").map((t) => t.trim()).filter((t) => t !== "");
  if (candidates.includes("*")) return true;
  const mine = opaqueTag(current);
  return candidates.some((t) => opaqueTag(t) === mine);
}

export function parseEnvelope(name: string, raw: string | null): ReadGroupResult | null {
  if (raw === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, name, problem: `stored rules for '${name}' are not JSON` };
  }
  const parsed = RulesEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    return { ok: false, name, problem: `stored rules for '${name}' do not match the rules format (${where})` };
  }
  return { ok: true, name, envelope: parsed.data };
}

export async function readGroup(kv: KVNamespace, name: string): Promise<ReadGroupResult | null> {
  return parseEnvelope(name, await kv.get(rulesKey(name), "text"));
}

export async function writeGroup(kv: KVNamespace, name: string, envelope: RulesEnvelope): Promise<void> {
  const metadata: RulesKeyMetadata = { etag: envelope.etag, updatedAt: envelope.updatedAt, updatedBy: envelope.updatedBy };
  await kv.put(rulesKey(name), JSON.stringify(envelope), { metadata });
}

export async function deleteGroupRules(kv: KVNamespace, name: string): Promise<void> {
  await kv.delete(rulesKey(name));
}

/** Every group key with its metadata (all list pages). */
export async function listGroupKeys(kv: KVNamespace): Promise<Array<{ name: string; metadata: RulesKeyMetadata | undefined }>> {
  const out: Array<{ name: string; metadata: RulesKeyMetadata | undefined }> = [];
  let cursor: string | undefined;
  for (;;) {
    const page: KVNamespaceListResult<unknown, string> = await kv.list({ prefix: RULES_KEY_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const key of page.keys) {
      const meta = RulesKeyMetadataSchema.safeParse(key.metadata);
      out.push({ name: key.name.slice(RULES_KEY_PREFIX.length), metadata: meta.success ? meta.data : undefined });
    }
    if (page.list_complete) break;
    cursor = page.cursor;
  }
  return out;
}

/**
 * Reads all groups for a tick. Values whose etag (from the key's metadata) matches the
 * isolate-local cache are not fetched again: warm isolates read KV once per changed group.
 */
export async function loadAllGroups(kv: KVNamespace, cache: Map<string, RulesEnvelope> = isolateCache): Promise<ReadGroupResult[]> {
  const keys = await listGroupKeys(kv);
  const present = new Set(keys.map((k) => k.name));
  for (const name of cache.keys()) if (!present.has(name)) cache.delete(name);
  return Promise.all(
    keys.map(async ({ name, metadata }): Promise<ReadGroupResult> => {
      const cached = cache.get(name);
      if (cached !== undefined && metadata !== undefined && cached.etag === metadata.etag) return { ok: true, name, envelope: cached };
      const result = (await readGroup(kv, name)) ?? { ok: false, name, problem: `rules for '${name}' vanished while reading` };
      if (result.ok) cache.set(name, result.envelope);
      else cache.delete(name);
      return result;
    }),
  );
}

const isolateCache = new Map<string, RulesEnvelope>();
