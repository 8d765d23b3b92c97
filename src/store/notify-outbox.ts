// The notifier's Durable Object storage (SQLite): the outbox of deliveries still to try and the bounded delivery log.
import type { NotifyEvent } from "../core/notify/events.ts";

/** Delivery log rows kept; older rows are dropped as new ones arrive. */
export const DELIVERY_LOG_LIMIT = 500;
/** Outbox rows kept at most (a dead destination must not grow storage without bound): the oldest go first. */
export const OUTBOX_LIMIT = 2_000;

export interface OutboxRow {
  eventId: string;
  destination: string;
  event: NotifyEvent;
  attempts: number;
  nextAt: number;
}

/** One attempt to deliver one event to one destination. */
export interface DeliveryAttempt {
  at: string;
  eventId: string;
  destination: string;
  type: string;
  group: string;
  attempt: number;
  /** "delivered"; "retrying" (another attempt is scheduled at `nextAt`); "failed" (given up). */
  outcome: "delivered" | "retrying" | "failed";
  status?: number;
  /** Why it failed, without the URL (it may carry a token). */
  error?: string;
  nextAt?: string;
}

export class NotifyOutbox {
  readonly #sql: SqlStorage;
  #ready = false;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #ensure(): void {
    if (this.#ready) return;
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS outbox (event_id TEXT NOT NULL, destination TEXT NOT NULL, event TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, PRIMARY KEY (event_id, destination))",
    );
    // Every (event, destination) ever queued, so a repeated enqueue of the same event is dropped (dedupe by id).
    this.#sql.exec("CREATE TABLE IF NOT EXISTS sent (event_id TEXT NOT NULL, destination TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (event_id, destination))");
    this.#sql.exec("CREATE TABLE IF NOT EXISTS deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)");
    this.#ready = true;
  }

  /** Queues the event for each destination unless that pair was queued before; returns how many were new. */
  enqueue(event: NotifyEvent, destinations: readonly string[], nowMs: number): number {
    this.#ensure();
    let added = 0;
    for (const destination of destinations) {
      const cursor = this.#sql.exec("INSERT OR IGNORE INTO sent (event_id, destination, at) VALUES (?, ?, ?)", event.id, destination, nowMs);
      if (cursor.rowsWritten === 0) continue;
      this.#sql.exec("INSERT OR REPLACE INTO outbox (event_id, destination, event, attempts, next_at) VALUES (?, ?, ?, 0, ?)", event.id, destination, JSON.stringify(event), nowMs);
      added++;
    }
    // Dedupe memory for 30 days; the outbox capped (oldest dropped) so a dead destination cannot fill storage.
    this.#sql.exec("DELETE FROM sent WHERE at < ?", nowMs - 30 * 86_400_000);
    this.#sql.exec("DELETE FROM outbox WHERE rowid IN (SELECT rowid FROM outbox ORDER BY next_at DESC LIMIT -1 OFFSET ?)", OUTBOX_LIMIT);
    return added;
  }

  /** Rows due at `nowMs`, oldest first, at most `limit`. */
  due(nowMs: number, limit: number): OutboxRow[] {
    this.#ensure();
    const rows = this.#sql
      .exec<{ event_id: string; destination: string; event: string; attempts: number; next_at: number }>(
        "SELECT event_id, destination, event, attempts, next_at FROM outbox WHERE next_at <= ? ORDER BY next_at, event_id LIMIT ?",
        nowMs,
        limit,
      )
      .toArray();
    return rows.map((r) => ({ eventId: r.event_id, destination: r.destination, event: JSON.parse(r.event) as NotifyEvent, attempts: r.attempts, nextAt: r.next_at }));
  }

  /** The earliest next attempt still queued. */
  nextDue(): number | undefined {
    this.#ensure();
    const row = this.#sql.exec<{ next: number | null }>("SELECT MIN(next_at) AS next FROM outbox").one();
    return row.next ?? undefined;
  }

  reschedule(row: OutboxRow, attempts: number, nextAt: number): void {
    this.#sql.exec("UPDATE outbox SET attempts = ?, next_at = ? WHERE event_id = ? AND destination = ?", attempts, nextAt, row.eventId, row.destination);
  }

  remove(row: OutboxRow): void {
    this.#sql.exec("DELETE FROM outbox WHERE event_id = ? AND destination = ?", row.eventId, row.destination);
  }

  pending(): number {
    this.#ensure();
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  log(attempt: DeliveryAttempt): void {
    this.#ensure();
    this.#sql.exec("INSERT INTO deliveries (entry) VALUES (?)", JSON.stringify(attempt));
    this.#sql.exec("DELETE FROM deliveries WHERE seq <= (SELECT seq FROM deliveries ORDER BY seq DESC LIMIT 1 OFFSET ?)", DELIVERY_LOG_LIMIT);
  }

  /** Newest first. */
  deliveries(limit: number): DeliveryAttempt[] {
    this.#ensure();
    const bounded = Math.max(1, Math.min(DELIVERY_LOG_LIMIT, Math.floor(limit)));
    return this.#sql
      .exec<{ entry: string }>("SELECT entry FROM deliveries ORDER BY seq DESC LIMIT ?", bounded)
      .toArray()
      .flatMap((r) => {
        try {
          return [JSON.parse(r.entry) as DeliveryAttempt];
        } catch {
          return [];
        }
      });
  }
}
