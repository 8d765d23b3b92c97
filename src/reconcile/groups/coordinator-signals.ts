// Signals in, inside a group's Durable Object: receivers (create, list, revoke), a signal's authentication (HMAC and
// replay window, or a bearer secret), its rate limit, and folding it into the live signals the reconcile reads.
import type { Env } from "../../config/env.ts";
import type { GroupRules, Override } from "../../config/group.ts";
import { MAX_RECEIVERS_PER_GROUP, parseSignalBody, SIGNAL_KEY_MAX, type ReceiverCreate } from "../../config/signals.ts";
import { signalEvent, type NotifyEvent, type SignalChange } from "../../core/notify/events.ts";
import { constantTimeEqual, DEFAULT_TOLERANCE_SECONDS, verifySignature } from "../../core/notify/signature.ts";
import type { ActivityEntry, PauseState } from "../../core/records.ts";
import { desiredCount } from "../../core/schedule/desired.ts";
import { applySignal, describeSignal, liveSignals, withoutReceiver, type LiveSignal, type Receiver, type SignalInput } from "../../core/schedule/signals.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import type { SignalStore, StoredReceiver } from "../../store/signals.ts";
import { notify } from "../notify/notifier.ts";

/** Accepted signals per receiver: a burst of this many, refilled at this many per minute (a token bucket in the object's memory). */
export const SIGNALS_PER_MINUTE = 20;

/** A receiver as GET shows it: never its secret. */
export type ReceiverView = Omit<StoredReceiver, "secret">;

export function viewOf(receiver: StoredReceiver): ReceiverView {
  const { secret: _secret, ...view } = receiver;
  return view;
}

/** What a signal request hands the group's object: the raw body and the headers that authenticate it. */
export interface SignalRequest {
  receiverId: string;
  body: string;
  signature?: string;
  authorization?: string;
  nowMs: number;
}

export type SignalRefusal = {
  ok: false;
  status: 401 | 404 | 409 | 422 | 429;
  code: string;
  message: string;
  retryAfterSeconds?: number;
  problems?: Array<{ path: string; message: string }>;
};
export type SignalAnswer =
  | { ok: true; outcome: "raised" | "extended" | "cleared" | "nothing"; message: string; signal: Pick<LiveSignal, "desired" | "since" | "until" | "count"> | null }
  | SignalRefusal;

/** The one answer for an unknown, revoked or deleted group's receiver: it says nothing about which. */
export const UNKNOWN_RECEIVER: SignalRefusal = { ok: false, status: 404, code: "not_found", message: "no such receiver" };

/** The group's runtime state a signal reads and changes (held in the object's memory, mirrored in storage). */
export interface SignalState {
  signals: LiveSignal[];
  override: Override | undefined;
  pause: PauseState | undefined;
}

/** What the handlers need from the object. */
export interface SignalContext {
  env: Env;
  store: CoordinatorStore;
  signals: SignalStore;
  state: SignalState;
  /** The group's current rules (its fence), or null when the object was never told them (numbers in events are then the signal's). */
  rules: { rules: GroupRules } | null;
  /** Servers counted at the last tick (the event's "old"). */
  counted: number;
  limiter: RateLimiter;
}

/** Per-receiver token buckets (memory only: an evicted object starts with full buckets, which only ever allows more). */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly perMinute = SIGNALS_PER_MINUTE) {}

  /** Takes a token at `nowMs`; answers the seconds to wait when there is none. */
  take(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const b = this.#buckets.get(key) ?? { tokens: this.perMinute, at: nowMs };
    const tokens = Math.min(this.perMinute, b.tokens + ((nowMs - b.at) / 60_000) * this.perMinute);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: nowMs });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - tokens) * 60) / this.perMinute)) };
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: nowMs });
    return { ok: true };
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomSecret(): string {
  // 32 random bytes, base64url: the HMAC key (or bearer token) the caller keeps.
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return `nvs_${btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

export type CreateAnswer = { ok: true; receiver: ReceiverView; secret: string } | { ok: false; status: 409 | 422; message: string; path: string };

/** Creates a receiver for the group; the secret is answered here once and never again. */
export async function createReceiver(ctx: SignalContext, group: string, input: ReceiverCreate, author: string, at: string): Promise<CreateAnswer> {
  const rules = ctx.rules?.rules;
  if (input.action === "raise" && rules !== undefined && input.desired > rules.max) {
    return { ok: false, status: 422, path: "body.desired", message: `desired ${input.desired} is above the group's max ${rules.max}: a signal cannot raise it past max` };
  }
  const existing = await ctx.signals.receivers();
  if (existing.length >= MAX_RECEIVERS_PER_GROUP) return { ok: false, status: 409, path: "body", message: `group '${group}' already has ${MAX_RECEIVERS_PER_GROUP} receivers: revoke one first` };
  const hex = randomHex(12);
  const name = input.name ?? `${input.action}-${hex.slice(0, 6)}`;
  if (existing.some((r) => r.name === name)) return { ok: false, status: 409, path: "body.name", message: `group '${group}' already has a receiver named '${name}'` };
  const receiver: StoredReceiver = {
    id: `${group}.${hex}`,
    group,
    name,
    action: input.action,
    ...(input.action === "raise" ? { desired: input.desired, durationMinutes: input.durationMinutes } : {}),
    createdAt: at,
    createdBy: author,
    secret: randomSecret(),
    auth: input.auth,
    signals: 0,
  };
  await ctx.signals.setReceivers([...existing, receiver]);
  const what = receiver.action === "raise" ? `raise to at least ${receiver.desired} for ${receiver.durationMinutes} min` : "clear every live signal";
  ctx.store.appendActivity([{ at, kind: "receiver-created", author, reason: `receiver '${name}' created (${what}; ${receiver.auth})` }]);
  return { ok: true, receiver: viewOf(receiver), secret: receiver.secret };
}

/** Revokes a receiver: its URL answers 404 from now on, and its live signals end (the count falls back to the schedule). */
export async function revokeReceiver(ctx: SignalContext, group: string, id: string, author: string, at: string): Promise<ReceiverView | null> {
  const existing = await ctx.signals.receivers();
  const gone = existing.find((r) => r.id === id);
  if (gone === undefined) return null;
  await ctx.signals.setReceivers(existing.filter((r) => r.id !== id));
  ctx.limiter.forget(id);
  const ended = ctx.state.signals.filter((s) => s.receiverId === id && Date.parse(s.until) > Date.parse(at));
  const activity: ActivityEntry[] = [{ at, kind: "receiver-revoked", author, reason: `receiver '${gone.name}' revoked${ended.length > 0 ? `; ${ended.length} live signal(s) ended` : ""}` }];
  const before = ctx.state.signals;
  ctx.state.signals = withoutReceiver(ctx.state.signals, id);
  await ctx.signals.setLive(ctx.state.signals);
  ctx.store.appendActivity(activity);
  await notify(ctx.env, ended.map((s) => changeEvent(ctx, group, s, "resolved", "ended: the receiver was revoked", before, new Date(at))));
  return viewOf(gone);
}

function changeEvent(ctx: SignalContext, group: string, s: LiveSignal, status: SignalChange["status"], cause: string, before: readonly LiveSignal[], now: Date): NotifyEvent {
  const rules = ctx.rules?.rules;
  const count = (signals: readonly LiveSignal[]) => (rules === undefined ? s.desired : desiredCount(rules, ctx.state.override, now, { signals }).value);
  return signalEvent({
    group,
    at: now.toISOString(),
    receiverId: s.receiverId,
    receiverName: s.receiverName,
    key: s.key,
    since: s.since,
    until: s.until,
    status,
    cause,
    counted: ctx.counted,
    desiredBefore: count(before),
    desiredAfter: count(ctx.state.signals),
  });
}

/** The signature's hex value(s) (the part a replay repeats). */
function signatureKey(header: string): string {
  return header
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.startsWith("v1="))
    .sort()
    .join(",");
}

async function authenticate(ctx: SignalContext, receiver: StoredReceiver, req: SignalRequest): Promise<SignalRefusal | { ok: true; seen?: { key: string; expiresMs: number } }> {
  const bearer = req.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (req.signature === undefined && bearer !== undefined && receiver.auth === "bearer") {
    return constantTimeEqual(bearer, receiver.secret) ? { ok: true } : { ok: false, status: 401, code: "unauthorized", message: "the bearer secret does not match this receiver" };
  }
  if (req.signature === undefined) {
    const how = receiver.auth === "bearer" ? "a Novascale-Signature header or Authorization: Bearer <secret>" : "a Novascale-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">";
    return { ok: false, status: 401, code: "signature_required", message: `send ${how}` };
  }
  const nowSeconds = Math.floor(req.nowMs / 1000);
  const verified = await verifySignature(receiver.secret, req.signature, req.body, nowSeconds);
  if (!verified.ok) {
    if (verified.reason === "expired") return { ok: false, status: 401, code: "signature_expired", message: `the signature's timestamp is more than ${DEFAULT_TOLERANCE_SECONDS} s from now: sign again with the current time` };
    if (verified.reason === "malformed") return { ok: false, status: 401, code: "signature_malformed", message: "the Novascale-Signature header must be t=<unix seconds>,v1=<hex>" };
    return { ok: false, status: 401, code: "signature_mismatch", message: "the signature does not match the body and this receiver's secret" };
  }
  const key = signatureKey(req.signature);
  if (ctx.signals.seen(key, req.nowMs)) return { ok: false, status: 409, code: "replayed", message: "this signature was already used: each signed request is accepted once" };
  // Kept while its timestamp is inside the window; past it, the window refuses it anyway.
  return { ok: true, seen: { key, expiresMs: (verified.timestamp + DEFAULT_TOLERANCE_SECONDS + 1) * 1000 } };
}

function describeInput(input: SignalInput): string {
  return input.format === "plain" ? (input.key === "" ? "a plain call" : `a plain call (key ${input.key})`) : input.format === "alertmanager" ? "Alertmanager" : "Aodh";
}

/**
 * One signal: the receiver must exist (else the one 404), authenticate (signature inside ±5 min, never seen before;
 * or its bearer secret), fit its rate limit (429 with Retry-After) and carry a body that parses (422); then it is folded
 * into the live signals, recorded in the activity log (repeats fold) and, when it starts or ends a signal, notified.
 */
export async function acceptSignal(ctx: SignalContext, group: string, req: SignalRequest): Promise<SignalAnswer> {
  const receivers = await ctx.signals.receivers();
  const receiver = receivers.find((r) => r.id === req.receiverId);
  if (receiver === undefined) return UNKNOWN_RECEIVER;
  const auth = await authenticate(ctx, receiver, req);
  if (!auth.ok) return auth;
  const parsed = parseSignalBody(req.body);
  if (!parsed.ok) {
    const problems =
      typeof parsed.error === "string"
        ? [{ path: "body", message: parsed.error }]
        : parsed.error.issues.map((i) => ({ path: ["body", ...i.path.map(String)].join("."), message: i.message }));
    return { ok: false, status: 422, code: "invalid_signal", message: `the signal's body is not understood: ${problems[0]?.path}: ${problems[0]?.message}`, problems };
  }
  const limited = ctx.limiter.take(receiver.id, req.nowMs);
  if (!limited.ok) {
    return { ok: false, status: 429, code: "rate_limited", message: `receiver '${receiver.name}' accepts ${SIGNALS_PER_MINUTE} signals a minute: retry in ${limited.retryAfterSeconds} s`, retryAfterSeconds: limited.retryAfterSeconds };
  }
  // Remembered only once it is accepted: a rate-limited request may be sent again as it was.
  if (auth.seen !== undefined && !ctx.signals.rememberSignature(auth.seen.key, req.nowMs, auth.seen.expiresMs)) {
    return { ok: false, status: 409, code: "replayed", message: "this signature was already used: each signed request is accepted once" };
  }
  const now = new Date(req.nowMs);
  const at = now.toISOString();
  const author = `receiver:${receiver.name}`;
  await ctx.signals.setReceivers(receivers.map((r) => (r.id === receiver.id ? { ...r, lastSignalAt: at, signals: r.signals + 1 } : r)));
  if ("ignored" in parsed) return { ok: true, outcome: "nothing", message: parsed.ignored, signal: null };
  const input = parsed.input;
  const before = liveSignals(ctx.state.signals, now);
  const { signals, outcome } = applySignal(ctx.state.signals, receiver, input, now);
  if (outcome.kind === "full") return { ok: false, status: 409, code: "too_many_signals", message: `the group has ${signals.length} live signals, the most it keeps: resolve some first` };
  ctx.state.signals = signals;
  await ctx.signals.setLive(signals);
  const from = describeInput(input);
  if (outcome.kind === "nothing") {
    return { ok: true, outcome: "nothing", message: outcome.why, signal: null };
  }
  if (outcome.kind === "cleared") {
    const reason = receiver.action === "clear" ? `${from} to receiver '${receiver.name}' cleared ${outcome.cleared.map(describeSignal).join("; ")}` : `${from} resolved the ${describeSignal(outcome.cleared[0] as LiveSignal)}`;
    ctx.store.appendActivity([{ at, kind: "signal-cleared", author, reason }]);
    await notify(ctx.env, outcome.cleared.map((s) => changeEvent(ctx, group, s, "resolved", `was cleared by ${from}`, before, now)));
    return { ok: true, outcome: "cleared", message: reason, signal: null };
  }
  const s = outcome.signal;
  const source = input.key === "" ? "" : ` (${input.key.slice(0, SIGNAL_KEY_MAX)})`;
  // Same words for every repeat of one signal (no times in them): the activity log folds repeats into one row with a count.
  const reason =
    outcome.kind === "raised"
      ? `${from} raised the group to at least ${s.desired} for ${receiver.durationMinutes} min${source}`
      : `${from} kept the group at least ${s.desired} for ${receiver.durationMinutes} more min${source}`;
  ctx.store.appendActivity([{ at, kind: "signal", author, reason }]);
  if (outcome.kind === "raised") await notify(ctx.env, [changeEvent(ctx, group, s, "firing", `raised the group to at least ${s.desired} (${from})`, before, now)]);
  return { ok: true, outcome: outcome.kind, message: `${describeSignal(s)}: at least ${s.desired}`, signal: { desired: s.desired, since: s.since, until: s.until, count: s.count } };
}

/** At a reconcile: signals that ran out are dropped once, each with an activity line (at its end) and a resolved event. */
export async function expireSignals(ctx: SignalContext, group: string, now: Date): Promise<void> {
  const before = ctx.state.signals;
  const live = liveSignals(before, now);
  if (live.length === before.length) return;
  const ended = before.filter((s) => !live.includes(s));
  ctx.state.signals = live;
  await ctx.signals.setLive(live);
  ctx.store.appendActivity(ended.map((s) => ({ at: s.until, kind: "signal-expired" as const, author: `receiver:${s.receiverName}`, reason: `${describeSignal(s)} ended; the schedule decides again` })));
  await notify(ctx.env, ended.map((s) => changeEvent(ctx, group, s, "resolved", `expired at ${s.until}`, before, now)));
}

export type { Receiver };
