// Rules of every kind (groups, snapshot policies): the stored envelope, ETags, and the one KV index the tick reads.
import { z } from "zod";
import { GroupRulesSchema } from "../config/group.ts";
import { SnapshotPolicyRulesSchema } from "../config/snapshot-policy.ts";

/**
 * The kinds of rules the registry keeps. Adding a kind is one line here (its name, which is also its
 * section in the KV index, and its schema): the registry, its compare-and-set, revisions, tombstones
 * and the index are the same code for every kind.
 */
export const RULE_KINDS = {
  group: GroupRulesSchema,
  snapshotPolicy: SnapshotPolicyRulesSchema,
} as const satisfies Record<string, z.ZodType>;

export type RuleKind = keyof typeof RULE_KINDS;
export type RulesOf<K extends RuleKind> = z.output<(typeof RULE_KINDS)[K]>;

/**
 * One accepted version of one named rule set. `revision` is per (kind, name), starts at 1, and only
 * grows (a deleted name keeps its last revision, so a re-created one continues from there).
 */
export interface RulesEnvelope<R = unknown> {
  rules: R;
  revision: number;
  etag: string;
  updatedAt: string;
  updatedBy: string;
}

const EnvelopeShape = {
  revision: z.number().int().positive(),
  etag: z.string().min(1),
  updatedAt: z.iso.datetime({ offset: true }),
  updatedBy: z.string().min(1),
};

function buildEnvelopeSchema<K extends RuleKind>(kind: K) {
  return z.object({ ...EnvelopeShape, rules: RULE_KINDS[kind] }).strict();
}

/**
 * Built once per kind and kept: every tick parses every group's envelope, and a zod schema's first
 * parse pays for setting itself up (in workerd a fresh schema per call cost more than the parse).
 */
const envelopeSchemas = new Map<RuleKind, ReturnType<typeof buildEnvelopeSchema>>();

export function envelopeSchema<K extends RuleKind>(kind: K): ReturnType<typeof buildEnvelopeSchema<K>> {
  let schema = envelopeSchemas.get(kind);
  if (schema === undefined) {
    schema = buildEnvelopeSchema(kind);
    envelopeSchemas.set(kind, schema);
  }
  return schema as ReturnType<typeof buildEnvelopeSchema<K>>;
}

/**
 * What a follower (a group's or a policy's Durable Object) holds: the newest revision of its rules it was
 * told about (by the registry, or first seen on a tick), with a copy; `envelope: null` once deleted at it.
 */
export interface RulesFenceOf<K extends RuleKind> {
  revision: number;
  envelope: RulesEnvelope<RulesOf<K>> | null;
}

export function rulesFenceSchema<K extends RuleKind>(kind: K) {
  return z.object({ revision: z.number().int().nonnegative(), envelope: envelopeSchema(kind).nullable() });
}

/** A stored entry read back: its envelope, or why it could not be read (reported, never thrown). */
export type ReadRulesResult<R = unknown> = { ok: true; name: string; envelope: RulesEnvelope<R> } | { ok: false; name: string; problem: string };
export type ReadGroupResult = ReadRulesResult<RulesOf<"group">>;

/** Parses one stored envelope of `kind` (from the registry's table or the KV index). */
export function parseEnvelope<K extends RuleKind>(kind: K, name: string, value: unknown): ReadRulesResult<RulesOf<K>> {
  const parsed = envelopeSchema(kind).safeParse(value);
  if (parsed.success) return { ok: true, name, envelope: parsed.data as RulesEnvelope<RulesOf<K>> };
  const where = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
  return { ok: false, name, problem: `stored ${kind} rules for '${name}' do not match the rules format (${where})` };
}

/** Quoted strong ETag over the canonical rules JSON: identical rules give the identical tag. */
export async function rulesEtag(rules: unknown): Promise<string> {
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

/** Preconditions of a conditional write (the raw If-Match / If-None-Match header values). */
export interface WriteConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

/**
 * The compare-and-set decision of one write, from the current entry (undefined: none, or deleted) alone.
 * Pure, so the registry decides it between two awaits: no other write can slip in between.
 */
export function checkConditions(kind: RuleKind, name: string, currentEtag: string | undefined, conditions: WriteConditions): { ok: true } | { ok: false; message: string } {
  if (conditions.ifMatch !== undefined && !etagMatches(conditions.ifMatch, currentEtag)) {
    return { ok: false, message: currentEtag !== undefined ? `${kind} '${name}' has changed (its ETag is ${currentEtag})` : `no ${kind} named '${name}' to match` };
  }
  if (conditions.ifNoneMatch !== undefined && etagMatches(conditions.ifNoneMatch, currentEtag)) {
    return { ok: false, message: `${kind} '${name}' already exists` };
  }
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// The KV index: every kind's live entries in one value, written only by the registry
// ---------------------------------------------------------------------------------------------

/** The part of a KV namespace this module uses (structural, so Node-side benchmarks can seed Miniflare's KV). */
export interface RulesKv {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * One value holds every kind, so a tick costs one KV read whatever the number of groups and kinds
 * (the free tier allows 100,000 reads but only 1,000 writes and 1,000 list() calls a day).
 */
export const INDEX_KEY = "index:rules";
/** The index format of earlier releases (one key per group plus this index); imported once by the registry. */
export const LEGACY_INDEX_KEY = "index:groups";

const IndexSchema = z.object({
  version: z.literal(2),
  /** The registry's commit counter when this index was written: higher is newer. */
  generation: z.number().int().nonnegative(),
  kinds: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** The index as written: per kind, per name, the raw envelope (each is parsed by its reader). */
export interface RulesIndex {
  generation: number;
  kinds: Partial<Record<RuleKind, Record<string, unknown>>>;
}

export type IndexRead = { ok: true; index: RulesIndex } | { ok: false; problem: string };

/**
 * The index text this isolate read last, and what it parsed to. Ticks come a minute apart and the index
 * changes only when rules do: the same text gives the same index object, so entriesOf's parse of every
 * entry (zod, each group's cron patterns checked) is kept too. Nothing is trusted that was not parsed:
 * only a byte-identical text reuses the result of parsing it.
 */
let lastIndex: { raw: string; index: RulesIndex } | undefined;
/** Parsed entries per index object and kind (see lastIndex); a new index object starts afresh. */
const parsedEntries = new WeakMap<RulesIndex, Map<RuleKind, ReadonlyArray<ReadRulesResult<unknown>>>>();

/** One KV read. A missing or unreadable index is reported (the caller asks the registry), never thrown. */
export async function readIndex(kv: RulesKv): Promise<IndexRead> {
  let raw: string | null;
  try {
    raw = await kv.get(INDEX_KEY, "text");
  } catch (error) {
    return { ok: false, problem: `reading the rules index failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (raw === null) return { ok: false, problem: "there is no rules index in KV (yet)" };
  if (lastIndex !== undefined && lastIndex.raw === raw) return { ok: true, index: lastIndex.index };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: "the rules index in KV is not JSON" };
  }
  const parsed = IndexSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: "the rules index in KV is not in the expected format" };
  const index: RulesIndex = { generation: parsed.data.generation, kinds: parsed.data.kinds };
  lastIndex = { raw, index };
  return { ok: true, index };
}

export async function writeIndex(kv: RulesKv, index: RulesIndex): Promise<void> {
  await kv.put(INDEX_KEY, JSON.stringify({ version: 2, generation: index.generation, kinds: index.kinds }));
}

/**
 * Every entry of `kind` in an index, each parsed (a bad entry is reported, the others still read). The
 * entries are parsed once per index object (see lastIndex); callers get their own array, and treat the
 * envelopes in it as read-only.
 */
export function entriesOf<K extends RuleKind>(index: RulesIndex, kind: K): Array<ReadRulesResult<RulesOf<K>>> {
  let byKind = parsedEntries.get(index);
  if (byKind === undefined) {
    byKind = new Map();
    parsedEntries.set(index, byKind);
  }
  let entries = byKind.get(kind);
  if (entries === undefined) {
    const section: Record<string, unknown> = index.kinds[kind] ?? {};
    entries = Object.keys(section)
      .sort()
      .map((name) => parseEnvelope(kind, name, section[name]));
    byKind.set(kind, entries);
  }
  return [...entries] as Array<ReadRulesResult<RulesOf<K>>>;
}

const LegacyIndexSchema = z.object({
  version: z.literal(1),
  groups: z.record(z.string(), z.object({ envelope: z.object({ rules: z.unknown(), etag: z.string(), updatedAt: z.string(), updatedBy: z.string() }).loose().optional() }).loose()),
});

/** Groups of an earlier release's index (`index:groups`), as revision-1 envelopes; none when absent or unreadable. */
export async function readLegacyGroups(kv: RulesKv): Promise<Array<{ name: string; envelope: RulesEnvelope }>> {
  const raw = await kv.get(LEGACY_INDEX_KEY, "text");
  if (raw === null) return [];
  try {
    const parsed = LegacyIndexSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) return [];
    return Object.entries(parsed.data.groups).flatMap(([name, entry]) => {
      const e = entry.envelope;
      return e === undefined ? [] : [{ name, envelope: { rules: e.rules, revision: 1, etag: e.etag, updatedAt: e.updatedAt, updatedBy: e.updatedBy } }];
    });
  } catch {
    return [];
  }
}

/** A group to seed straight into KV; without a revision it is seeded as revision 1. */
export interface SeedGroup {
  name: string;
  envelope: Omit<RulesEnvelope, "revision"> & { revision?: number };
}

/**
 * Seeds groups straight into the KV index, bypassing the registry (benchmarks only: their ticks read
 * KV and never write rules). A registry that starts empty imports this index, so the API sees them too.
 */
export async function writeGroups(kv: RulesKv, groups: readonly SeedGroup[]): Promise<void> {
  const read = await readIndex(kv);
  const index: RulesIndex = read.ok ? read.index : { generation: 0, kinds: {} };
  const section = { ...(index.kinds.group ?? {}) };
  for (const { name, envelope } of groups) {
    const { rules, etag, updatedAt, updatedBy } = envelope;
    section[name] = { rules, revision: envelope.revision ?? 1, etag, updatedAt, updatedBy };
  }
  await writeIndex(kv, { generation: index.generation, kinds: { ...index.kinds, group: section } });
}
