// The rules registry's logic: compare-and-set, revisions, tombstones, the KV index and the fence, over injected KV and followers.
import {
  checkConditions,
  entriesOf,
  INDEX_KEY,
  parseEnvelope,
  readIndex,
  readLegacyGroups,
  RULE_KINDS,
  rulesEtag,
  writeIndex,
  type ReadRulesResult,
  type RuleKind,
  type RulesEnvelope,
  type RulesIndex,
  type RulesKv,
  type WriteConditions,
} from "../../store/rules.ts";
import { RulesTable, type RulesRow } from "../../store/rules-table.ts";

const KINDS = Object.keys(RULE_KINDS) as RuleKind[];

/** A change told to an entry's follower (a group's Durable Object); `envelope: null` is a delete. */
export interface FollowUpdate {
  kind: RuleKind;
  name: string;
  revision: number;
  envelope: RulesEnvelope | null;
  author: string;
  at: string;
  /** The etag it replaces (for the follower's activity line); absent for a creation. */
  previousEtag?: string;
}

/**
 * The follower's answer: `accepted` when it now holds this revision (or already did); otherwise the
 * revision it holds, which is newer (a delete it accepted whose commit here was interrupted).
 */
export interface FollowAnswer {
  accepted: boolean;
  revision: number;
}

/** Why a request was refused; the API maps `code` to its HTTP status. Nothing was written. */
export interface Refusal {
  code: "not_found" | "precondition_failed" | "conflict" | "cloud_unavailable" | "invalid_request";
  message: string;
  details?: Record<string, unknown>;
}

/** A delete's guard (the follower's own check, serialised with its work): accepted, refused, or behind. */
export type GuardAnswer = { ok: true; details?: Record<string, unknown> } | { ok: false; refusal: Refusal } | { ok: false; behind: number };

export interface Entry {
  name: string;
  envelope: RulesEnvelope;
}

export type PutAnswer =
  | { ok: true; created: boolean; changed: boolean; entry: Entry; propagated: boolean }
  | { ok: false; refusal: Refusal };
export type RemoveAnswer = { ok: true; revision: number; details: Record<string, unknown>; propagated: boolean } | { ok: false; refusal: Refusal };

export interface Summary {
  name: string;
  revision: number;
  etag: string;
  updatedAt: string;
  updatedBy: string;
}

/** What the registry's current group rules name: the retention guard's fresh half. */
export interface NamedImages {
  complete: boolean;
  named: Array<{ name: string; image: string | { id: string } }>;
}

/** The registry's single instance name: one strongly consistent place per deployment. */
export const REGISTRY_NAME = "rules";

export interface RegistryDeps {
  storage: DurableObjectStorage;
  kv: RulesKv;
  /** Tells the entry's follower about a new revision (the fence). */
  follow(update: FollowUpdate): Promise<FollowAnswer>;
  now?: () => number;
}

/** First retry of an unfinished propagation (KV allows one write a second per key); doubles up to the cap. */
export const RETRY_FIRST_MS = 2_000;
export const RETRY_MAX_MS = 10 * 60_000;
/** Follower renumbering rounds before giving up (each needs a crash between two steps to be needed). */
const FENCE_ROUNDS = 3;

export class RulesRegistryEngine {
  readonly #deps: RegistryDeps;
  readonly #table: RulesTable;
  readonly #lanes = new Map<string, Promise<unknown>>();
  #publishing: Promise<unknown> = Promise.resolve();
  #ready: Promise<void> | undefined;

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
    this.#table = new RulesTable(deps.storage.sql);
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  /** Runs `work` after every earlier write of the same entry (writes of other entries go on in parallel). */
  #lane<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#lanes.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    this.#lanes.set(key, tail);
    void tail.then(() => {
      if (this.#lanes.get(key) === tail) this.#lanes.delete(key);
    });
    return run;
  }

  /**
   * The first start imports what KV holds: an index seeded outside the registry (benchmarks), or an
   * earlier release's `index:groups`. Once; afterwards the table is the only source.
   */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      if (this.#table.meta("initialised") === 1) return;
      const current = await readIndex(this.#deps.kv);
      if (current.ok) {
        for (const kind of KINDS) {
          for (const read of entriesOf(current.index, kind)) if (read.ok) this.#table.commit(kind, read.name, { envelope: read.envelope });
        }
        // Their followers get these same revisions from the tick: nothing is owed to them.
        for (const kind of KINDS) for (const row of this.#table.live(kind)) this.#table.markFenced(kind, row.name, row.revision);
        this.#table.setMeta("generation", Math.max(this.#table.meta("generation"), current.index.generation));
        this.#table.setMeta("published", this.#table.meta("generation"));
      } else {
        for (const { name, envelope } of await readLegacyGroups(this.#deps.kv)) {
          const read = parseEnvelope("group", name, envelope);
          if (read.ok) this.#table.commit("group", name, { envelope: read.envelope });
        }
      }
      this.#table.setMeta("initialised", 1);
    })();
    this.#ready.catch(() => (this.#ready = undefined)); // a failed KV read is retried by the next caller
    return this.#ready;
  }

  async get(kind: RuleKind, name: string): Promise<ReadRulesResult | null> {
    await this.#init();
    const row = this.#table.row(kind, name);
    if (row === undefined || row.body === null) return null;
    return parseEnvelope(kind, name, row.body);
  }

  async list(kind: RuleKind): Promise<Summary[]> {
    await this.#init();
    return this.#table.live(kind).map((row) => ({ name: row.name, revision: row.revision, etag: row.etag ?? "", updatedAt: row.updatedAt, updatedBy: row.updatedBy }));
  }

  /** Create or replace (kind, name): compare-and-set against the current version, then fence and publish. */
  async put(kind: RuleKind, name: string, body: unknown, opts: WriteConditions & { author: string; at: string }): Promise<PutAnswer> {
    await this.#init();
    const parsed = RULE_KINDS[kind].safeParse(body);
    if (!parsed.success) return { ok: false, refusal: { code: "invalid_request", message: `the ${kind} rules do not validate: ${parsed.error.issues[0]?.message ?? "invalid"}` } };
    const rules = parsed.data;
    const etag = await rulesEtag(rules);
    return this.#lane(`${kind}/${name}`, async () => {
      // From here to commit() there is no await: no other write of this entry can interleave.
      const row = this.#table.row(kind, name);
      const live = row !== undefined && row.body !== null;
      const check = checkConditions(kind, name, live ? (row.etag ?? undefined) : undefined, opts);
      if (!check.ok) return { ok: false, refusal: { code: "precondition_failed", message: check.message, ...(live ? { details: { etag: row.etag } } : {}) } };
      if (live && row.etag === etag) {
        // The same rules again: nothing to write (KV's free tier allows 1,000 writes a day).
        const same = parseEnvelope(kind, name, row.body);
        if (same.ok) return { ok: true, created: false, changed: false, entry: { name, envelope: same.envelope }, propagated: true };
      }
      let envelope: RulesEnvelope = { rules, revision: (row?.revision ?? 0) + 1, etag, updatedAt: opts.at, updatedBy: opts.author };
      this.#table.commit(kind, name, { envelope });
      const update: FollowUpdate = { kind, name, revision: envelope.revision, envelope, author: opts.author, at: opts.at, ...(live && row.etag ? { previousEtag: row.etag } : {}) };
      const fenced = await this.#fenceQuietly(update);
      if (fenced !== undefined && fenced.envelope !== null) envelope = fenced.envelope;
      const propagated = fenced !== undefined && (await this.#publishQuietly());
      return { ok: true, created: !live, changed: true, entry: { name, envelope }, propagated };
    });
  }

  /**
   * Deletes (kind, name). `guard` (the follower's own check, run in its queue) decides first and, when it
   * accepts, already holds the tombstone's revision; a refusal writes nothing anywhere.
   */
  async remove(
    kind: RuleKind,
    name: string,
    opts: { ifMatch?: string; author: string; at: string },
    guard?: (revision: number) => Promise<GuardAnswer>,
  ): Promise<RemoveAnswer> {
    await this.#init();
    return this.#lane(`${kind}/${name}`, async () => {
      const row = this.#table.row(kind, name);
      if (row === undefined || row.body === null) return { ok: false, refusal: { code: "not_found", message: `no ${kind} named '${name}'` } };
      const check = checkConditions(kind, name, row.etag ?? undefined, opts);
      if (!check.ok) return { ok: false, refusal: { code: "precondition_failed", message: check.message, details: { etag: row.etag } } };
      let revision = row.revision + 1;
      let details: Record<string, unknown> = {};
      if (guard !== undefined) {
        let answer = await guard(revision);
        for (let round = 1; round < FENCE_ROUNDS && !answer.ok && "behind" in answer; round++) {
          revision = answer.behind + 1;
          answer = await guard(revision);
        }
        if (!answer.ok) return { ok: false, refusal: "refusal" in answer ? answer.refusal : { code: "conflict", message: `the ${kind} '${name}' kept moving ahead of the registry` } };
        details = answer.details ?? {};
      }
      this.#table.commit(kind, name, { tombstone: { revision, at: opts.at, by: opts.author } });
      let fenced = true;
      if (guard !== undefined) this.#table.markFenced(kind, name, revision);
      else fenced = (await this.#fenceQuietly({ kind, name, revision, envelope: null, author: opts.author, at: opts.at })) !== undefined;
      const propagated = fenced && (await this.#publishQuietly());
      return { ok: true, revision, details, propagated };
    });
  }

  /**
   * The images every live group's current rules name (by id or by name), read from the table itself,
   * not from KV: snapshot retention asks at prune time, so a group re-pointed at an image a moment ago
   * keeps it (issue 24 item 4). `complete: false` when a group's stored rules do not parse (then its
   * image is unknown and nothing may be pruned).
   */
  async namedImages(): Promise<NamedImages> {
    await this.#init();
    const named: NamedImages["named"] = [];
    let complete = true;
    for (const row of this.#table.live("group")) {
      const read = parseEnvelope("group", row.name, row.body);
      if (!read.ok) complete = false;
      else if (read.envelope.rules.image !== undefined) named.push({ name: row.name, image: read.envelope.rules.image });
    }
    return { complete, named };
  }

  /**
   * The index for a tick that could not read it from KV: the table's own. It is written again when KV
   * (as seen from here) lacks it or holds an older one; a location KV has not reached yet just asks again.
   */
  async indexForTick(): Promise<RulesIndex> {
    await this.#init();
    const generation = this.#table.meta("generation");
    const seen = await readIndex(this.#deps.kv);
    if (!seen.ok || seen.index.generation < generation) await this.#publishQuietly(true);
    return this.#table.snapshot(KINDS);
  }

  /** The alarm's work: tell followers what they were not told, publish what was not published. True when all done. */
  async propagate(): Promise<boolean> {
    await this.#init();
    let done = true;
    for (const row of this.#table.unfenced()) {
      const ok = await this.#lane(`${row.kind}/${row.name}`, async () => {
        const current = this.#table.row(row.kind, row.name);
        if (current === undefined || current.fenced >= current.revision) return true;
        return (await this.#fenceQuietly(followOf(current), false)) !== undefined;
      });
      done &&= ok;
    }
    if (this.#table.meta("published") < this.#table.meta("generation")) done = (await this.#publishQuietly(false, false)) && done;
    if (done) this.#table.setMeta("failures", 0);
    else await this.#armRetry();
    return done;
  }

  /**
   * Tells the follower; when it already holds a newer revision than this table ever committed for the
   * entry (a delete interrupted after its acceptance), goes past it. Undefined when it could not be told
   * (the alarm tries again).
   */
  async #fenceQuietly(update: FollowUpdate, arm = true): Promise<FollowUpdate | undefined> {
    try {
      let current = update;
      for (let round = 0; round < FENCE_ROUNDS; round++) {
        const answer = await this.#deps.follow(current);
        if (answer.accepted) {
          this.#table.markFenced(current.kind, current.name, current.revision);
          return current;
        }
        const revision = answer.revision + 1;
        current = { ...current, revision, envelope: current.envelope === null ? null : { ...current.envelope, revision } };
        this.#table.commit(
          current.kind,
          current.name,
          current.envelope === null ? { tombstone: { revision, at: current.at, by: current.author } } : { envelope: current.envelope },
        );
      }
      throw new Error(`the follower of ${update.kind} '${update.name}' kept moving ahead`);
    } catch (error) {
      console.error(`novascale registry: telling ${update.kind} '${update.name}' about revision ${update.revision} failed (retried): ${messageOf(error)}`);
      if (arm) await this.#armRetry();
      return undefined;
    }
  }

  /** Writes the index from the table (writes arriving meanwhile share one KV write). False when KV refused. */
  async #publishQuietly(force = false, arm = true): Promise<boolean> {
    const target = this.#table.meta("generation");
    const run = this.#publishing.then(async () => {
      if (!force && this.#table.meta("published") >= target) return;
      const snapshot = this.#table.snapshot(KINDS);
      await writeIndex(this.#deps.kv, snapshot);
      this.#table.setMeta("published", Math.max(this.#table.meta("published"), snapshot.generation));
    });
    this.#publishing = run.catch(() => undefined);
    try {
      await run;
      return true;
    } catch (error) {
      console.error(`novascale registry: writing ${INDEX_KEY} to KV failed (retried): ${messageOf(error)}`);
      if (arm) await this.#armRetry();
      return false;
    }
  }

  /** Sets the alarm for the next propagation attempt (backing off), unless an earlier one is set. */
  async #armRetry(): Promise<void> {
    const failures = this.#table.meta("failures");
    this.#table.setMeta("failures", failures + 1);
    const at = this.#now() + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failures);
    const existing = await this.#deps.storage.getAlarm();
    if (existing === null || existing > at) await this.#deps.storage.setAlarm(at);
  }
}

/** The message a row still owes its follower (the follower parses the envelope at its edge). */
function followOf(row: RulesRow): FollowUpdate {
  return { kind: row.kind, name: row.name, revision: row.revision, envelope: row.body as RulesEnvelope | null, author: row.updatedBy, at: row.updatedAt };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
