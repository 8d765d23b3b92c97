// Signals in: a receiver's live signals (raise the group for a while) and the merge rule with the schedule (pure).
//
// Merge rule: desired = clamp(max(schedule, live signals), min, max). "schedule" is what the rules say at `now`
// (exception > window > point entries > default > min); an unexpired manual override beats every signal (an
// operator's explicit hold wins, as it beats the schedule); a paused group still takes no action. A signal is
// live while `until` is in the future; an expired one simply stops counting, so the count falls back to the
// schedule, never to 0. Signals only ever raise: a signal lower than the schedule changes nothing.
import type { Desired } from "../model/types.ts";

/** What a receiver does when it is signalled (one action per receiver, like Senlin's receivers and Otter's webhooks). */
export type ReceiverAction = "raise" | "clear";

/** A receiver as the API shows it (its signing secret is kept by the group's Durable Object and never shown again). */
export interface Receiver {
  /** `<group>.<24 hex>`: the capability in the signal URL `/v1/signals/{id}`. */
  id: string;
  group: string;
  /** Unique within the group; named in status ("signal from receiver 'alerts' ..."). */
  name: string;
  action: ReceiverAction;
  /** raise: the least desired count while the signal is live. */
  desired?: number;
  /** raise: how long a signal stays live after it is received (a repeat extends it). */
  durationMinutes?: number;
  createdAt: string;
  createdBy: string;
}

/** One live signal: a raise from one receiver for one source (an Alertmanager group, an Aodh alarm, a caller's key). */
export interface LiveSignal {
  receiverId: string;
  receiverName: string;
  /** The source within the receiver ("" for a plain call); a resolved notification clears only its own source. */
  key: string;
  desired: number;
  /** When this signal was first accepted (a repeat keeps it). */
  since: string;
  /** When it was last accepted. */
  lastAt: string;
  /** It stops counting at this instant. */
  until: string;
  /** Accepted signals folded into this one. */
  count: number;
}

/** What a caller sent, reduced to what the rule needs (config/signals.ts parses the body into this). */
export interface SignalInput {
  /** firing: raise (or, for a clear receiver, clear); resolved: end this source's signal. */
  status: "firing" | "resolved";
  key: string;
  /** Where it came from, for the activity line: "alertmanager", "aodh", "plain". */
  format: "alertmanager" | "aodh" | "plain";
}

/** Live signals per group are bounded: one per receiver and source, at most this many. */
export const MAX_LIVE_SIGNALS = 100;

export type SignalOutcome =
  | { kind: "raised"; signal: LiveSignal }
  | { kind: "extended"; signal: LiveSignal }
  | { kind: "cleared"; cleared: LiveSignal[] }
  | { kind: "nothing"; why: string }
  | { kind: "full" };

/** The signals still counting at `now` (until strictly after now). */
export function liveSignals(signals: readonly LiveSignal[], now: Date): LiveSignal[] {
  return signals.filter((s) => Date.parse(s.until) > now.getTime());
}

/** The live signal that decides: the largest desired; among equal values the one that lasts longest, then the earliest received. */
export function strongestSignal(signals: readonly LiveSignal[], now: Date): LiveSignal | undefined {
  let best: LiveSignal | undefined;
  for (const s of liveSignals(signals, now)) {
    if (best === undefined || s.desired > best.desired || (s.desired === best.desired && Date.parse(s.until) > Date.parse(best.until))) best = s;
  }
  return best;
}

/**
 * Folds one accepted signal into the group's signals at `at`. A raise receiver's firing signal starts a signal
 * for its source, or extends the live one (until = at + duration, count + 1); a resolved one ends its source's
 * signal. A clear receiver's firing signal ends every live signal of the group. Expired signals are dropped.
 */
export function applySignal(signals: readonly LiveSignal[], receiver: Receiver, input: SignalInput, at: Date): { signals: LiveSignal[]; outcome: SignalOutcome } {
  const live = liveSignals(signals, at);
  if (receiver.action === "clear") {
    if (input.status === "resolved") return { signals: live, outcome: { kind: "nothing", why: "a resolved notification to a clear receiver changes nothing" } };
    return live.length === 0 ? { signals: live, outcome: { kind: "nothing", why: "no live signal to clear" } } : { signals: [], outcome: { kind: "cleared", cleared: live } };
  }
  const same = (s: LiveSignal) => s.receiverId === receiver.id && s.key === input.key;
  const existing = live.find(same);
  if (input.status === "resolved") {
    if (existing === undefined) return { signals: live, outcome: { kind: "nothing", why: "no live signal from this source to clear" } };
    return { signals: live.filter((s) => !same(s)), outcome: { kind: "cleared", cleared: [existing] } };
  }
  const until = new Date(at.getTime() + (receiver.durationMinutes ?? 0) * 60_000).toISOString();
  const iso = at.toISOString();
  if (existing !== undefined) {
    // A repeat never shortens a signal (a receiver's duration may have been shorter when it began).
    const later = Date.parse(until) > Date.parse(existing.until) ? until : existing.until;
    const signal: LiveSignal = { ...existing, desired: receiver.desired ?? existing.desired, lastAt: iso, until: later, count: existing.count + 1 };
    return { signals: live.map((s) => (same(s) ? signal : s)), outcome: { kind: "extended", signal } };
  }
  if (live.length >= MAX_LIVE_SIGNALS) return { signals: live, outcome: { kind: "full" } };
  const signal: LiveSignal = { receiverId: receiver.id, receiverName: receiver.name, key: input.key, desired: receiver.desired ?? 0, since: iso, lastAt: iso, until, count: 1 };
  return { signals: [...live, signal], outcome: { kind: "raised", signal } };
}

/** Ends the signals of one receiver (it was revoked). */
export function withoutReceiver(signals: readonly LiveSignal[], receiverId: string): LiveSignal[] {
  return signals.filter((s) => s.receiverId !== receiverId);
}

/** "signal from receiver 'alerts' until 2026-11-26T09:30:00.000Z" (with its source when it has one). */
export function describeSignal(signal: LiveSignal): string {
  const source = signal.key === "" ? "" : ` (${signal.key.length > 60 ? `${signal.key.slice(0, 57)}...` : signal.key})`;
  return `signal from receiver '${signal.receiverName}'${source} until ${signal.until}`;
}

/**
 * The merge rule's raise half: the schedule's answer (before clamping) raised to the strongest live signal when
 * that is larger. The caller clamps the result to [min, max] and leaves overrides and pausing to their own layers.
 */
export function raiseBySignals(scheduled: Desired, signals: readonly LiveSignal[], now: Date): Desired {
  const strongest = strongestSignal(signals, now);
  if (strongest === undefined || strongest.desired <= scheduled.value) return scheduled;
  return {
    value: strongest.desired,
    source: "signal",
    since: strongest.since,
    reason: `${describeSignal(strongest)}: at least ${strongest.desired} (the schedule says ${scheduled.value}: ${scheduled.reason})`,
  };
}
