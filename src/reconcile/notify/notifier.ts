// The Notifier Durable Object (one, idFromName("notify")); it also keeps the last tick's figures for /metrics. It takes events from groups' reconciles into an outbox and
// delivers them from its alarm, outside every tick, with retries (core/notify/format.ts RETRY_DELAYS_MS) and a log.
//
// Why a Durable Object alarm and not a Queue: the free plan already has SQLite Durable Objects (the groups use
// them), while Queues add a product, a binding and a consumer Worker; one object keeps the outbox, the dedupe
// memory (event id x destination) and the delivery log in one transactional store, and its alarm retries on the
// schedule we state instead of a queue's fixed backoff.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../config/env.ts";
import type { CloudStatusRecord } from "../../core/records.ts";
import { parseDestinations, wants, type Destination } from "../../config/notify.ts";
import { requestFor, retryAt } from "../../core/notify/format.ts";
import type { NotifyEvent } from "../../core/notify/events.ts";
import { SIGNATURE_HEADER, signatureHeader } from "../../core/notify/signature.ts";
import { NotifyOutbox, type DeliveryAttempt, type OutboxRow } from "../../store/notify-outbox.ts";

/** One attempt waits at most this long for the destination's answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Deliveries one alarm run sends (the rest go in the next run, at once). */
export const DELIVERIES_PER_RUN = 25;

export interface NotifierStatus {
  /** Destinations without their URLs or secrets. */
  destinations: Array<{ name: string; kind: Destination["kind"]; groups?: string[]; events?: string[] }>;
  /** NOVASCALE_NOTIFY could not be read (then nothing is sent). */
  problem?: string;
  pending: number;
}

/** The last cron tick's own figures, for GET /metrics (one small row, rewritten each tick). */
export interface TickStats {
  at: string;
  durationMs: number;
  subrequests: number;
  subrequestLimit: number;
  groups: number;
  deferred: number;
  listing: "complete" | "failed" | "skipped";
  /** Each cloud-region the tick listed (absent from older records). */
  clouds?: CloudStatusRecord[];
}

/** Stores the tick's figures; never throws (metrics must not fail a tick). */
export async function recordTick(env: Env, stats: TickStats): Promise<void> {
  const stub = notifierStub(env);
  if (stub === undefined) return;
  try {
    await stub.recordTick(stats);
  } catch (error) {
    console.error(JSON.stringify({ msg: "tick stats not stored", error: error instanceof Error ? error.message : String(error) }));
  }
}

export type TestAnswer = { ok: true; event: NotifyEvent; deliveries: DeliveryAttempt[] } | { ok: false; reason: string };

export function notifierStub(env: Env) {
  if (env.NOTIFIER === undefined) return undefined;
  return env.NOTIFIER.get(env.NOTIFIER.idFromName("notify")) as unknown as DurableObjectStub<Notifier>;
}

/** Hands a reconcile's events to the notifier; never throws (a notification problem must not fail a tick). */
export async function notify(env: Env, events: readonly NotifyEvent[]): Promise<void> {
  if (events.length === 0) return;
  const stub = notifierStub(env);
  if (stub === undefined) return;
  try {
    await stub.enqueue([...events]);
  } catch (error) {
    console.error(JSON.stringify({ msg: "notify enqueue failed", events: events.length, error: error instanceof Error ? error.message : String(error) }));
  }
}

/** An error's text without anything URL-like (a Slack or ntfy URL is itself a credential). */
function safeError(error: unknown): string {
  const name = error instanceof Error ? error.name : "Error";
  if (name === "TimeoutError" || name === "AbortError") return `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>").slice(0, 200);
}

export class Notifier extends DurableObject<Env> {
  readonly #outbox: NotifyOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#outbox = new NotifyOutbox(ctx.storage.sql);
  }

  #destinations() {
    return parseDestinations(this.env.NOVASCALE_NOTIFY);
  }

  async #wake(atMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > atMs) await this.ctx.storage.setAlarm(atMs);
  }

  /** Queues each event for the destinations that want it; an event already queued for a destination is dropped. */
  async enqueue(events: NotifyEvent[]): Promise<{ queued: number }> {
    const config = this.#destinations();
    if (!config.ok) {
      console.error(JSON.stringify({ msg: "notify config unreadable", problem: config.problem }));
      return { queued: 0 };
    }
    const now = Date.now();
    let queued = 0;
    for (const event of events) {
      const names = config.destinations.filter((d) => wants(d, event.group, event.type)).map((d) => d.name);
      queued += this.#outbox.enqueue(event, names, now);
    }
    if (queued > 0) await this.#wake(now);
    return { queued };
  }

  /** Delivers what is due, then sets the alarm for the next retry. */
  override async alarm(): Promise<void> {
    await this.#deliverDue(Date.now());
    const next = this.#outbox.nextDue();
    if (next !== undefined) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  async #deliverDue(nowMs: number, only?: (row: OutboxRow) => boolean): Promise<DeliveryAttempt[]> {
    const config = this.#destinations();
    const byName = new Map((config.ok ? config.destinations : []).map((d) => [d.name, d] as const));
    const rows = this.#outbox.due(nowMs, DELIVERIES_PER_RUN).filter((r) => only === undefined || only(r));
    return Promise.all(rows.map((row) => this.#deliver(row, byName.get(row.destination))));
  }

  async #deliver(row: OutboxRow, destination: Destination | undefined): Promise<DeliveryAttempt> {
    const attempt = row.attempts + 1;
    const base = { eventId: row.eventId, destination: row.destination, type: row.event.type, group: row.event.group, attempt };
    if (destination === undefined) {
      this.#outbox.remove(row);
      const entry: DeliveryAttempt = { at: new Date().toISOString(), ...base, outcome: "failed", error: "the destination is no longer configured" };
      this.#outbox.log(entry);
      return entry;
    }
    const out = requestFor(destination.kind, row.event);
    const headers: Record<string, string> = { ...out.headers, "User-Agent": "novascale-notify/1" };
    if (destination.kind === "webhook") {
      headers[SIGNATURE_HEADER] = await signatureHeader(destination.secret, Math.floor(Date.now() / 1000), out.body);
    }
    let status: number | undefined;
    let error: string | undefined;
    try {
      const response = await fetch(destination.url, { method: "POST", headers, body: out.body, redirect: "manual", signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
      status = response.status;
      await response.body?.cancel();
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (e) {
      error = safeError(e);
    }
    const at = Date.now();
    let entry: DeliveryAttempt;
    if (error === undefined) {
      this.#outbox.remove(row);
      entry = { at: new Date(at).toISOString(), ...base, outcome: "delivered", ...(status === undefined ? {} : { status }) };
    } else {
      const next = retryAt(attempt, at, status);
      if (next === undefined) this.#outbox.remove(row);
      else this.#outbox.reschedule(row, attempt, next);
      entry = {
        at: new Date(at).toISOString(),
        ...base,
        outcome: next === undefined ? "failed" : "retrying",
        ...(status === undefined ? {} : { status }),
        error,
        ...(next === undefined ? {} : { nextAt: new Date(next).toISOString() }),
      };
    }
    this.#outbox.log(entry);
    console.log(JSON.stringify({ msg: "notify delivery", ...entry }));
    return entry;
  }

  /** Sends a test event now (to one destination, or all) and answers with the first attempts; retries as any event. */
  async sendTest(author: string, destination?: string): Promise<TestAnswer> {
    const config = this.#destinations();
    if (!config.ok) return { ok: false, reason: config.problem };
    const targets = config.destinations.filter((d) => destination === undefined || d.name === destination);
    if (targets.length === 0) return { ok: false, reason: destination === undefined ? "no destinations are configured (NOVASCALE_NOTIFY)" : `no destination '${destination}'` };
    const now = new Date();
    const id = `test/${crypto.randomUUID()}`;
    const event: NotifyEvent = {
      id,
      group: "-",
      type: "test",
      status: "firing",
      severity: "info",
      at: now.toISOString(),
      since: now.toISOString(),
      title: "novascale: test notification",
      message: `A test notification sent by ${author}; nothing is wrong (servers 0 -> 0, desired 0).`,
      count: { old: 0, new: 0, desired: 0 },
    };
    this.#outbox.enqueue(event, targets.map((d) => d.name), now.getTime());
    const deliveries = await this.#deliverDue(now.getTime(), (r) => r.eventId === id);
    const next = this.#outbox.nextDue();
    if (next !== undefined) await this.#wake(next);
    return { ok: true, event, deliveries };
  }

  async recordTick(stats: TickStats): Promise<void> {
    // A cloud's last error, last success and last /limits outlive the ticks that did not see them (a later tick may not boot: no /limits read).
    const previous = ((await this.ctx.storage.get("tickStats")) as TickStats | undefined)?.clouds ?? [];
    const before = new Map(previous.map((c) => [`${c.cloud}/${c.region ?? ""}`, c]));
    const clouds = stats.clouds?.map((c) => {
      const old = before.get(`${c.cloud}/${c.region ?? ""}`);
      return {
        ...c,
        ...(c.lastError === undefined && old?.lastError !== undefined ? { lastError: old.lastError } : {}),
        ...(c.limits === undefined && old?.limits !== undefined ? { limits: old.limits } : {}),
        ...(c.lastSuccessAt === undefined && old?.lastSuccessAt !== undefined ? { lastSuccessAt: old.lastSuccessAt } : {}),
      };
    });
    await this.ctx.storage.put("tickStats", clouds === undefined ? stats : { ...stats, clouds });
  }

  async tickStats(): Promise<TickStats | null> {
    return ((await this.ctx.storage.get("tickStats")) as TickStats | undefined) ?? null;
  }

  async deliveries(limit: number): Promise<DeliveryAttempt[]> {
    return this.#outbox.deliveries(limit);
  }

  async status(): Promise<NotifierStatus> {
    const config = this.#destinations();
    const destinations = (config.ok ? config.destinations : []).map((d) => ({
      name: d.name,
      kind: d.kind,
      ...(d.groups === undefined ? {} : { groups: d.groups }),
      ...(d.events === undefined ? {} : { events: [...d.events] }),
    }));
    return { destinations, ...(config.ok ? {} : { problem: config.problem }), pending: this.#outbox.pending() };
  }
}
