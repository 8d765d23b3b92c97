// A Durable Object's activity log (SQLite): capped rows for what happened (repeats folded), and a separate, longer list of who changed what.
import { z } from "zod";
import type { ActivityEntry, ActivityKind } from "../core/records.ts";

/** Activity rows kept per object; older rows are dropped as new ones arrive. */
export const ACTIVITY_LIMIT = 500;

/** Rows of the changes list (rules, overrides, pauses, retries, receivers) kept per object: a day of errors never pushes them out. */
export const CHANGES_LIMIT = 1000;

/**
 * The kinds that record who changed what. They go to their own list with its own cap, never folded, so
 * the capped activity rows (boots, deletes, errors) cannot push them out.
 */
export const CHANGE_KINDS: ReadonlySet<ActivityKind> = new Set<ActivityKind>([
  "rules-changed",
  "override-set",
  "override-cleared",
  "override-expired",
  "pause",
  "resume",
  "boot-unblocked",
  "group-deleted",
  "policy-deleted",
  "receiver-created",
  "receiver-revoked",
]);

/** An entry identical to one of the newest FOLD_LOOKBACK rows, seen within FOLD_WINDOW_MS of its last time, is folded into it. */
export const FOLD_LOOKBACK = 20;
export const FOLD_WINDOW_MS = 60 * 60_000;

const ActivityEntrySchema = z.object({ at: z.string(), kind: z.string(), author: z.string(), reason: z.string() }).loose();

/** What makes two entries "the same": everything but their times and request ids (those differ every tick). */
export function foldKey(entry: ActivityEntry): string {
  const { at: _at, tickRequestId: _tick, repeated: _repeated, error, ...rest } = entry;
  if (error === undefined) return JSON.stringify(rest);
  const { requestId: _r, tickRequestId: _t, ...errorRest } = error;
  return JSON.stringify({ ...rest, error: errorRest });
}

/** `entry` folded into `earlier`: one entry with the count and the first and last time seen (the newest entry's details). */
export function folded(earlier: ActivityEntry, entry: ActivityEntry): ActivityEntry {
  return { ...entry, repeated: { count: (earlier.repeated?.count ?? 1) + 1, firstAt: earlier.repeated?.firstAt ?? earlier.at, lastAt: entry.at } };
}

function parseRow(text: string): ActivityEntry | undefined {
  try {
    const parsed = ActivityEntrySchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as ActivityEntry) : undefined;
  } catch {
    return undefined;
  }
}

/** The log of one object. Its tables survive a delete of the object's rules (the log ends with the tombstone line). */
export class ActivityLog {
  readonly #sql: SqlStorage;
  #ready = false;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #ensure(): void {
    if (this.#ready) return;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS activity (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)");
    this.#sql.exec("CREATE TABLE IF NOT EXISTS activity_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)");
    this.#ready = true;
  }

  /**
   * Appends entries (oldest first). Changes go to their list (trimmed to CHANGES_LIMIT); any other entry
   * identical to a recent row is folded into it (moved to the top, count + 1), else appended, and the rows
   * are trimmed to ACTIVITY_LIMIT.
   */
  append(entries: readonly ActivityEntry[]): void {
    if (entries.length === 0) return;
    this.#ensure();
    let changes = false;
    let rows = false;
    for (const entry of entries) {
      if (CHANGE_KINDS.has(entry.kind)) {
        this.#sql.exec("INSERT INTO activity_changes (entry) VALUES (?)", JSON.stringify(entry));
        changes = true;
        continue;
      }
      const same = this.#recentTwin(entry);
      if (same !== undefined) this.#sql.exec("DELETE FROM activity WHERE seq = ?", same.seq);
      this.#sql.exec("INSERT INTO activity (entry) VALUES (?)", JSON.stringify(same === undefined ? entry : folded(same.entry, entry)));
      rows = true;
    }
    if (rows) this.#sql.exec("DELETE FROM activity WHERE seq <= (SELECT seq FROM activity ORDER BY seq DESC LIMIT 1 OFFSET ?)", ACTIVITY_LIMIT);
    if (changes) this.#sql.exec("DELETE FROM activity_changes WHERE seq <= (SELECT seq FROM activity_changes ORDER BY seq DESC LIMIT 1 OFFSET ?)", CHANGES_LIMIT);
  }

  /** The newest of the recent rows identical to `entry` and last seen within the fold window. */
  #recentTwin(entry: ActivityEntry): { seq: number; entry: ActivityEntry } | undefined {
    const key = foldKey(entry);
    const at = Date.parse(entry.at);
    const recent = this.#sql.exec<{ seq: number; entry: string }>("SELECT seq, entry FROM activity ORDER BY seq DESC LIMIT ?", FOLD_LOOKBACK).toArray();
    for (const row of recent) {
      const earlier = parseRow(row.entry);
      if (earlier === undefined || foldKey(earlier) !== key) continue;
      const last = Date.parse(earlier.repeated?.lastAt ?? earlier.at);
      if (Math.abs(at - last) <= FOLD_WINDOW_MS) return { seq: row.seq, entry: earlier };
      return undefined;
    }
    return undefined;
  }

  /**
   * Newest first, `limit` clamped to 1..ACTIVITY_LIMIT: the activity rows and the changes merged by time
   * (`only: "changes"`: the changes alone, up to CHANGES_LIMIT). An unreadable row is skipped, not fatal.
   */
  read(limit: number, only?: "changes"): ActivityEntry[] {
    this.#ensure();
    const cap = only === "changes" ? CHANGES_LIMIT : ACTIVITY_LIMIT;
    const bounded = Math.max(1, Math.min(cap, Math.floor(limit)));
    const changes = this.#rows("activity_changes", bounded);
    if (only === "changes") return changes;
    // Two lists, each newest first in the order written: merged by time, each keeping its own order.
    const rows = this.#rows("activity", bounded);
    const out: ActivityEntry[] = [];
    let i = 0;
    let j = 0;
    while (out.length < bounded && (i < rows.length || j < changes.length)) {
      const row = rows[i];
      const change = changes[j];
      if (change === undefined || (row !== undefined && row.at >= change.at)) {
        out.push(row as ActivityEntry);
        i++;
      } else {
        out.push(change);
        j++;
      }
    }
    return out;
  }

  #rows(table: "activity" | "activity_changes", limit: number): ActivityEntry[] {
    const rows = this.#sql.exec<{ entry: string }>(`SELECT entry FROM ${table} ORDER BY seq DESC LIMIT ?`, limit).toArray();
    return rows.flatMap((row) => {
      const entry = parseRow(row.entry);
      return entry === undefined ? [] : [entry];
    });
  }
}
