// Parking's pure pieces: the park mark novascale writes on a server, tiers, and the ledger of parked server-hours.
import { z } from "zod";
import { PARK_KEY, TIER_KEY } from "../model/membership.ts";
import type { ObservedServer } from "../model/types.ts";

/**
 * What the park mark says: novascale parked the server at `at`. `unconfirmed`: Nova's answer to the park
 * did not confirm it (a 5xx, or no answer), so the server being ACTIVE again means the park did not take,
 * not that someone started it by hand: it is parked again whatever manualChanges says.
 */
export interface ParkMark {
  at: Date;
  unconfirmed: boolean;
}

const MARK_PATTERN = /^parked (\d{4}-\d{2}-\d{2}T[0-9:.]+Z)( unconfirmed)?$/;

/** The mark's value as novascale writes it (one metadata value, at most 255 characters). */
export function formatParkMark(at: Date, unconfirmed = false): string {
  return `parked ${at.toISOString()}${unconfirmed ? " unconfirmed" : ""}`;
}

/** The server's park mark; undefined when there is none or it is not one novascale wrote (then it is ignored). */
export function parkMarkOf(server: ObservedServer): ParkMark | undefined {
  const value = server.metadata[PARK_KEY];
  if (value === undefined) return undefined;
  const match = MARK_PATTERN.exec(value);
  if (match === null) return undefined;
  const at = new Date(match[1] as string);
  if (Number.isNaN(at.getTime())) return undefined;
  return { at, unconfirmed: match[2] !== undefined };
}

/** The operator's tier (novascale:tier=<n>, an integer); 0 when unset or not an integer. */
export function tierOf(server: ObservedServer): number {
  const value = server.metadata[TIER_KEY];
  if (value === undefined || !/^-?\d{1,6}$/.test(value.trim())) return 0;
  return Number.parseInt(value, 10);
}

// ---- the ledger: which servers were parked when, for "server-hours parked" -------------------------

/** One stretch of time a server spent parked; `to` absent while it still is. */
export const ParkedSpanSchema = z.object({ id: z.string(), name: z.string(), from: z.string(), to: z.string().optional() }).strict();
export type ParkedSpan = z.infer<typeof ParkedSpanSchema>;
export const ParkingLedgerSchema = z.array(ParkedSpanSchema);

/** Spans that ended longer ago than this are dropped: status reports at most the last 30 days. */
export const LEDGER_KEEP_DAYS = 30;
/** At most this many spans are kept (a group that parks and resumes 100 servers daily for 30 days fits). */
export const LEDGER_MAX_SPANS = 5_000;
const DAY_MS = 86_400_000;

/**
 * The ledger after one listing: a span opens for each server now parked that has no open span (from its
 * park mark's time, else `now`), and an open span closes at `now` for each server no longer parked (resumed,
 * started by hand, deleted). It follows what the cloud shows, so hand changes are counted too.
 */
export function updateLedger(ledger: readonly ParkedSpan[], parked: readonly ObservedServer[], now: Date): ParkedSpan[] {
  const nowIso = now.toISOString();
  const parkedIds = new Set(parked.map((s) => s.id));
  const open = new Set<string>();
  const out: ParkedSpan[] = [];
  for (const span of ledger) {
    if (span.to === undefined && !parkedIds.has(span.id)) out.push({ ...span, to: nowIso });
    else out.push(span);
    if (span.to === undefined && parkedIds.has(span.id)) open.add(span.id);
  }
  for (const server of parked) {
    if (open.has(server.id)) continue;
    const mark = parkMarkOf(server);
    const from = mark !== undefined && mark.at.getTime() <= now.getTime() ? mark.at.toISOString() : nowIso;
    out.push({ id: server.id, name: server.name, from });
  }
  const horizon = now.getTime() - LEDGER_KEEP_DAYS * DAY_MS;
  const kept = out.filter((span) => span.to === undefined || Date.parse(span.to) > horizon);
  return kept.slice(-LEDGER_MAX_SPANS);
}

/** Server-hours spent parked in the `days` before `now` (open spans count up to `now`). */
export function parkedServerHours(ledger: readonly ParkedSpan[], now: Date, days: number): number {
  const start = now.getTime() - days * DAY_MS;
  let ms = 0;
  for (const span of ledger) {
    const from = Math.max(Date.parse(span.from), start);
    const to = Math.min(span.to === undefined ? now.getTime() : Date.parse(span.to), now.getTime());
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) ms += to - from;
  }
  return Math.round((ms / 3_600_000) * 10) / 10;
}

/** What parking looks like now: who is parked since when, and the server-hours spent parked. */
export interface ParkingStatus {
  /** Servers parked as of the last tick, with when they were parked (the park mark, else when first seen parked). */
  parked: Array<{ id: string; name: string; since: string }>;
  /** Server-hours spent parked over the last 7 and 30 days (from the group's own record of parked spans). */
  serverHoursParked: { last7Days: number; last30Days: number };
}

/** The status view of a group's ledger; null for a group that does not park and has no parked history. */
export function parkingStatus(groupParks: boolean, ledger: readonly ParkedSpan[], now: Date): ParkingStatus | null {
  if (!groupParks && ledger.length === 0) return null;
  return {
    parked: ledger.filter((s) => s.to === undefined).map((s) => ({ id: s.id, name: s.name, since: s.from })),
    serverHoursParked: { last7Days: parkedServerHours(ledger, now, 7), last30Days: parkedServerHours(ledger, now, 30) },
  };
}

// ---- resumes in flight: Nova refuses metadata changes on a shelved server, so they are held by the group ----

/** A resume novascale sent: which server, when. Held in the group's Durable Object, not on the server. */
export const ResumeRecordSchema = z.object({ id: z.string(), at: z.string() }).strict();
export type ResumeRecord = z.infer<typeof ResumeRecordSchema>;
export const ResumeRecordsSchema = z.array(ResumeRecordSchema);
/** At most this many resumes are remembered; older ones go first. */
export const RESUMES_KEPT = 1_000;

/**
 * The resume records after one reconcile (`members` as listed before it acted). A record ends when its
 * server is gone, is ACTIVE with no park mark (back, and its mark removed), or carries a mark newer than
 * the resume (parked again); `sent` adds this reconcile's resumes (replacing older records of them).
 */
export function updateResumes(records: readonly ResumeRecord[], members: readonly ObservedServer[], sent: readonly string[], now: Date): ResumeRecord[] {
  const byId = new Map(members.map((s) => [s.id, s]));
  const kept = records.filter((r) => {
    const server = byId.get(r.id);
    if (server === undefined || sent.includes(r.id)) return false;
    const mark = parkMarkOf(server);
    if (mark === undefined) return server.status.toUpperCase() !== "ACTIVE";
    return mark.at.getTime() <= Date.parse(r.at);
  });
  const added = sent.map((id) => ({ id, at: now.toISOString() }));
  return [...kept, ...added].slice(-RESUMES_KEPT);
}

/** Resume times by server id, for the planner. */
export function resumeTimes(records: readonly ResumeRecord[]): Record<string, string> {
  return Object.fromEntries(records.map((r) => [r.id, r.at]));
}
