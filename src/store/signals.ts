// A group's signals in its Durable Object storage: receivers (with their signing secrets), live signals, and the signatures seen.
//
// The secrets live here and nowhere else: not in KV, not in the activity log, not in any GET answer or log line.
// The keys start with "signals:" so a group's delete (CoordinatorStore.clearRuntime: every key but the rules fence)
// revokes its receivers and ends its signals; the table of seen signatures only holds hashes that expire.
import { z } from "zod";
import type { LiveSignal, Receiver } from "../core/schedule/signals.ts";
import { ReceiverFieldsSchema } from "../config/signals.ts";
import { readParsed } from "./parsed.ts";

const KEY = { receivers: "signals:receivers", live: "signals:live" } as const;

/** A receiver as stored: what the API shows, plus its secret (HMAC key, or bearer token for senders that cannot sign). */
export interface StoredReceiver extends Receiver {
  secret: string;
  auth: "signature" | "bearer";
  /** When it last accepted a signal, and how many it accepted. */
  lastSignalAt?: string;
  signals: number;
}

const StoredReceiverSchema = ReceiverFieldsSchema.extend({ secret: z.string().min(16) });

const LiveSignalSchema = z.object({
  receiverId: z.string(),
  receiverName: z.string(),
  key: z.string(),
  desired: z.number().int(),
  since: z.string(),
  lastAt: z.string(),
  until: z.string(),
  count: z.number().int(),
});

export class SignalStore {
  readonly #storage: DurableObjectStorage;
  #seenReady = false;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  async receivers(): Promise<StoredReceiver[]> {
    return ((await readParsed(this.#storage, KEY.receivers, z.array(StoredReceiverSchema), "group")) ?? []) as StoredReceiver[];
  }
  async setReceivers(value: readonly StoredReceiver[]): Promise<void> {
    if (value.length === 0) await this.#storage.delete(KEY.receivers);
    else await this.#storage.put(KEY.receivers, value);
  }

  async live(): Promise<LiveSignal[]> {
    return (await readParsed(this.#storage, KEY.live, z.array(LiveSignalSchema), "group")) ?? [];
  }
  async setLive(value: readonly LiveSignal[]): Promise<void> {
    if (value.length === 0) await this.#storage.delete(KEY.live);
    else await this.#storage.put(KEY.live, value);
  }

  #ensureSeen(): void {
    if (this.#seenReady) return;
    this.#storage.sql.exec("CREATE TABLE IF NOT EXISTS signal_seen (signature TEXT PRIMARY KEY, expires INTEGER NOT NULL)");
    this.#seenReady = true;
  }

  /**
   * Remembers a signature until `expiresMs` (when its timestamp leaves the window, after which it is refused as
   * expired anyway). Answers false when it was already seen and has not expired: a replay. Expired rows are dropped.
   */
  rememberSignature(signature: string, nowMs: number, expiresMs: number): boolean {
    this.#ensureSeen();
    this.#storage.sql.exec("DELETE FROM signal_seen WHERE expires <= ?", nowMs);
    const seen = this.#storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM signal_seen WHERE signature = ?", signature).one().n;
    if (seen > 0) return false;
    this.#storage.sql.exec("INSERT INTO signal_seen (signature, expires) VALUES (?, ?)", signature, expiresMs);
    return true;
  }

  /** Whether a signature was seen and has not expired (checked before the rate limit, which must not remember it). */
  seen(signature: string, nowMs: number): boolean {
    this.#ensureSeen();
    return this.#storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM signal_seen WHERE signature = ? AND expires > ?", signature, nowMs).one().n > 0;
  }
}
