// A Durable Object's bounded activity log (SQLite): groups and snapshot policies keep theirs with the same code.
import { z } from "zod";
import type { ActivityEntry } from "../core/records.ts";

/** Activity rows kept per object; older rows are dropped as new ones arrive. */
export const ACTIVITY_LIMIT = 500;

const ActivityEntrySchema = z.object({ at: z.string(), kind: z.string(), author: z.string(), reason: z.string() }).loose();

/** The log of one object. Its table survives a delete of the object's rules (the log ends with the tombstone line). */
export class ActivityLog {
  readonly #sql: SqlStorage;
  #ready = false;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #ensure(): void {
    if (this.#ready) return;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS activity (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)");
    this.#ready = true;
  }

  /** Appends entries (oldest first) and trims the log to ACTIVITY_LIMIT rows. */
  append(entries: readonly ActivityEntry[]): void {
    if (entries.length === 0) return;
    this.#ensure();
    for (const entry of entries) this.#sql.exec("INSERT INTO activity (entry) VALUES (?)", JSON.stringify(entry));
    this.#sql.exec("DELETE FROM activity WHERE seq <= (SELECT seq FROM activity ORDER BY seq DESC LIMIT 1 OFFSET ?)", ACTIVITY_LIMIT);
  }

  /** Newest first, `limit` clamped to 1..ACTIVITY_LIMIT; an unreadable row is skipped, not fatal. */
  read(limit: number): ActivityEntry[] {
    this.#ensure();
    const bounded = Math.max(1, Math.min(ACTIVITY_LIMIT, Math.floor(limit)));
    const rows = this.#sql.exec<{ entry: string }>("SELECT entry FROM activity ORDER BY seq DESC LIMIT ?", bounded).toArray();
    const out: ActivityEntry[] = [];
    for (const row of rows) {
      try {
        const parsed = ActivityEntrySchema.safeParse(JSON.parse(row.entry));
        if (parsed.success) out.push(parsed.data as ActivityEntry);
      } catch {
        // skipped
      }
    }
    return out;
  }
}
