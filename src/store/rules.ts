// Group rules in KV: one key per group (`group:<name>`), a versioned envelope, ETag / If-Match semantics.
import { z } from "zod";
import { GroupRulesSchema, type GroupRules } from "../config/group.ts";

/**
 * The part of a KV namespace this module uses. Structural, so Node-side tools (benchmarks seeding
 * Miniflare's KV) can use this module without the Workers runtime types.
 */
export interface RulesKv {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options?: { metadata?: unknown }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; cursor?: string }): Promise<{ keys: Array<{ name: string; metadata?: unknown }>; list_complete: boolean; cursor?: string }>;
}

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

export async function readGroup(kv: RulesKv, name: string): Promise<ReadGroupResult | null> {
  return parseEnvelope(name, await kv.get(rulesKey(name), "text"));
}

/** Every group key with its metadata (all list pages). */
export async function listGroupKeys(kv: RulesKv): Promise<Array<{ name: string; metadata: RulesKeyMetadata | undefined }>> {
  const out: Array<{ name: string; metadata: RulesKeyMetadata | undefined }> = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await kv.list({ prefix: RULES_KEY_PREFIX, ...(cursor ? { cursor } : {}) });
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
 * The index: every group's envelope in one value, so a tick costs one KV read whatever the number of
 * groups. KV's free tier allows 1,000 list() calls a day, fewer than one per minute, so the tick lists
 * keys only every INDEX_CHECK_MINUTES to repair drift (a PUT whose index update was lost to another
 * writer's stale read: KV has no compare-and-swap). The per-group keys stay the source of truth.
 */
export const INDEX_KEY = "index:groups";
export const INDEX_CHECK_MINUTES = 5;
const IndexSchema = z.object({ version: z.literal(1), groups: z.record(z.string(), z.unknown()) });

/** Per group: what the tick gets, and the etag the key's metadata had (to compare without reading values). */
type Index = Map<string, { result: ReadGroupResult; keyEtag: string | null }>;
const IndexEntrySchema = z.object({ keyEtag: z.string().nullable(), envelope: z.unknown().optional(), problem: z.string().optional() });

async function readIndex(kv: RulesKv): Promise<Index | undefined> {
  const raw = await kv.get(INDEX_KEY, "text");
  if (raw === null) return undefined;
  let parsed: ReturnType<typeof IndexSchema.safeParse>;
  try {
    parsed = IndexSchema.safeParse(JSON.parse(raw));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const index: Index = new Map();
  for (const [name, value] of Object.entries(parsed.data.groups)) {
    const entry = IndexEntrySchema.safeParse(value);
    if (!entry.success) return undefined; // an index we do not understand is rebuilt from the keys
    // A group whose own key is corrupt stays in the index as such: reported every tick, not re-read every check.
    const result: ReadGroupResult =
      entry.data.problem !== undefined
        ? { ok: false, name, problem: entry.data.problem }
        : (parseEnvelope(name, JSON.stringify(entry.data.envelope ?? null)) ?? { ok: false, name, problem: `no rules for '${name}' in the index` });
    index.set(name, { result, keyEtag: entry.data.keyEtag });
  }
  return index;
}

async function writeIndex(kv: RulesKv, index: Index): Promise<void> {
  const groups: Record<string, unknown> = {};
  for (const [name, { result, keyEtag }] of [...index.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    groups[name] = result.ok ? { keyEtag, envelope: result.envelope } : { keyEtag, problem: result.problem };
  }
  await kv.put(INDEX_KEY, JSON.stringify({ version: 1, groups }));
}

/** Writes the group's key, then its entry in the index. */
export async function writeGroup(kv: RulesKv, name: string, envelope: RulesEnvelope): Promise<void> {
  await writeGroups(kv, [{ name, envelope }]);
}

/** Writes several groups' keys, then the index once (seeding many groups: one index write, not one per group). */
export async function writeGroups(kv: RulesKv, groups: ReadonlyArray<{ name: string; envelope: RulesEnvelope }>): Promise<void> {
  for (const { name, envelope } of groups) {
    const metadata: RulesKeyMetadata = { etag: envelope.etag, updatedAt: envelope.updatedAt, updatedBy: envelope.updatedBy };
    await kv.put(rulesKey(name), JSON.stringify(envelope), { metadata });
  }
  // Without an index (first group, or it was lost), rebuild it from the keys rather than start it with these groups only.
  const index: Index = (await readIndex(kv)) ?? (await repairIndex(kv, undefined, false));
  for (const { name, envelope } of groups) index.set(name, { result: { ok: true, name, envelope }, keyEtag: envelope.etag });
  await writeIndex(kv, index);
}

/** Deletes the group's key and its index entry. */
export async function deleteGroupRules(kv: RulesKv, name: string): Promise<void> {
  await kv.delete(rulesKey(name));
  const index = await readIndex(kv);
  if (index?.delete(name)) await writeIndex(kv, index);
}

/** Compares the index with the per-group keys (one list, plus a get per difference); rewrites it only on drift. */
async function repairIndex(kv: RulesKv, index: Index | undefined, write = true): Promise<Index> {
  const keys = await listGroupKeys(kv);
  const repaired: Index = new Map();
  // A missing index is written even when empty: otherwise a deployment without groups would list every minute.
  let drift = index === undefined;
  for (const { name, metadata } of keys) {
    const keyEtag = metadata?.etag ?? null;
    const known = index?.get(name);
    if (known !== undefined && known.keyEtag === keyEtag) {
      repaired.set(name, known);
      continue;
    }
    drift = true;
    const result = (await readGroup(kv, name)) ?? { ok: false as const, name, problem: `rules for '${name}' vanished while reading` };
    repaired.set(name, { result, keyEtag });
  }
  if (index !== undefined && [...index.keys()].some((name) => !repaired.has(name))) drift = true;
  if (drift && write) await writeIndex(kv, repaired);
  return repaired;
}

/**
 * All groups for a tick at `now`: one read of the index; every INDEX_CHECK_MINUTES (or when the index
 * is missing or unreadable) also a list() of the keys to repair it. A corrupt group is reported, not thrown.
 */
export async function loadAllGroups(kv: RulesKv, now: Date): Promise<ReadGroupResult[]> {
  let index = await readIndex(kv);
  if (index === undefined || now.getUTCMinutes() % INDEX_CHECK_MINUTES === 0) index = await repairIndex(kv, index);
  return [...index.values()].map((entry) => entry.result);
}
