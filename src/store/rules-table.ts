// The registry's SQLite table: every kind's rules, their revisions and tombstones, and the index bookkeeping.
import type { RuleKind, RulesEnvelope, RulesIndex } from "./rules.ts";

/**
 * One row per (kind, name), kept after a delete as a tombstone (no body) so the revision goes on
 * growing when the name is created again. `fenced` is the revision the entry's follower (a group's
 * Durable Object) has acknowledged: lower than `revision` means that message is still owed.
 */
export interface RulesRow {
  kind: RuleKind;
  name: string;
  revision: number;
  /** The stored envelope JSON; null for a tombstone. */
  body: unknown;
  etag: string | null;
  updatedAt: string;
  updatedBy: string;
  fenced: number;
}

interface SqlRow extends Record<string, SqlStorageValue> {
  kind: string;
  name: string;
  revision: number;
  body: string | null;
  etag: string | null;
  updated_at: string;
  updated_by: string;
  fenced: number;
}

/** Counters kept in the `meta` table. */
type MetaKey = "generation" | "published" | "initialised" | "failures";

function toRow(r: SqlRow): RulesRow {
  let body: unknown = null;
  if (r.body !== null) {
    try {
      body = JSON.parse(r.body);
    } catch {
      body = { unreadable: r.body.slice(0, 100) }; // reported by the kind's parser, like any bad value
    }
  }
  return { kind: r.kind as RuleKind, name: r.name, revision: r.revision, body, etag: r.etag, updatedAt: r.updated_at, updatedBy: r.updated_by, fenced: r.fenced };
}

/** Synchronous access to the table (SQLite in a Durable Object): a read-decide-write has no await inside. */
export class RulesTable {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS rules (
        kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL,
        body TEXT, etag TEXT, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL,
        fenced INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, name))`,
    );
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  }

  meta(key: MetaKey): number {
    return this.#sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? 0;
  }
  setMeta(key: MetaKey, value: number): void {
    this.#sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  /** The row of (kind, name), tombstone included; undefined when the name was never used. */
  row(kind: RuleKind, name: string): RulesRow | undefined {
    const found = this.#sql.exec<SqlRow>("SELECT * FROM rules WHERE kind = ? AND name = ?", kind, name).toArray()[0];
    return found === undefined ? undefined : toRow(found);
  }

  /** Live rows of a kind, by name. */
  live(kind: RuleKind): RulesRow[] {
    return this.#sql.exec<SqlRow>("SELECT * FROM rules WHERE kind = ? AND body IS NOT NULL ORDER BY name", kind).toArray().map(toRow);
  }

  /** Rows whose follower has not acknowledged their revision yet. */
  unfenced(): RulesRow[] {
    return this.#sql.exec<SqlRow>("SELECT * FROM rules WHERE fenced < revision ORDER BY kind, name").toArray().map(toRow);
  }

  /** Stores a new version (envelope) or a tombstone (null) of (kind, name) and bumps the generation. */
  commit(kind: RuleKind, name: string, version: { envelope: RulesEnvelope } | { tombstone: { revision: number; at: string; by: string } }): void {
    if ("envelope" in version) {
      const e = version.envelope;
      this.#upsert(kind, name, e.revision, JSON.stringify(e), e.etag, e.updatedAt, e.updatedBy);
    } else {
      const t = version.tombstone;
      this.#upsert(kind, name, t.revision, null, null, t.at, t.by);
    }
    this.setMeta("generation", this.meta("generation") + 1);
  }

  #upsert(kind: string, name: string, revision: number, body: string | null, etag: string | null, at: string, by: string): void {
    this.#sql.exec(
      `INSERT INTO rules (kind, name, revision, body, etag, updated_at, updated_by, fenced) VALUES (?, ?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT(kind, name) DO UPDATE SET revision = excluded.revision, body = excluded.body, etag = excluded.etag,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      kind,
      name,
      revision,
      body,
      etag,
      at,
      by,
    );
  }

  /** The follower acknowledged `revision` (never moves backwards). */
  markFenced(kind: RuleKind, name: string, revision: number): void {
    this.#sql.exec("UPDATE rules SET fenced = MAX(fenced, ?) WHERE kind = ? AND name = ?", revision, kind, name);
  }

  /** The whole index as the registry would publish it now: every kind's live envelopes. */
  snapshot(kinds: readonly RuleKind[]): RulesIndex {
    const index: RulesIndex = { generation: this.meta("generation"), kinds: {} };
    for (const kind of kinds) {
      const section: Record<string, unknown> = {};
      for (const row of this.live(kind)) section[row.name] = row.body;
      index.kinds[kind] = section;
    }
    return index;
  }
}
