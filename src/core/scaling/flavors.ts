// Flavor fallback: which of a group's flavors (in order of preference) boots now, given the marks capacity and quota refusals left (pure; `now` is a parameter).
//
// The rule, stated once (README "Flavor fallback" and docs/api.md quote it):
// - A group's `flavor` is one name (or {id}) or a list in order of preference. New boots take the first
//   flavor that is not marked unavailable. A single flavor is always chosen: marks never stop it.
// - A mark comes from a capacity or quota refusal of THAT flavor: an ERROR member whose fault is Nova's
//   NoValidHost ("No valid host was found"), or a boot refused for quota (403 "Quota exceeded", category
//   `quota`). A 400 (flavor not found, bad image, ...) is a config error: it blocks boots as before and
//   never marks a flavor.
// - A mark lasts 30 min; a flavor refused again within 4 h of its last mark's end doubles it (30, 60,
//   120, 240 min, then 240); a refusal while the flavor is still marked is the same episode (no new strike).
//   A mark that ended more than 4 h ago is forgotten. When the preferred flavor's mark ends, new boots try
//   it again; members already on a fallback stay (the rolling refresh moves them: flavorDrift()).
// - At most one fallback step per tick: the tick chooses once, before it boots; a refusal during the tick
//   marks the flavor and the next tick chooses again (never the next flavor in the same tick). So a tick
//   adds at most one mark of its own, and a flavor already marked is skipped, not tried again.
// - Every flavor marked: the preferred one is tried (the boot backoff and quota checks pace it).
import type { FlavorRules, ResourceRef } from "../model/rules.ts";
import type { ObservedServer } from "../model/types.ts";

/** A first mark lasts this long; each strike within FORGET_AFTER_MS of the last mark's end doubles it. */
export const MARK_MINUTES = 30;
/** Marks never last longer. */
export const MAX_MARK_MINUTES = 240;
/** A mark that ended this long ago is forgotten (the next refusal starts at MARK_MINUTES again). */
export const FORGET_AFTER_MS = 4 * 60 * 60_000;
/** ERROR servers remembered per mark as already counted (a server whose delete keeps failing is one refusal). */
export const MARK_SERVERS_KEPT = 20;

/** A flavor marked unavailable, as the group's Durable Object keeps it. */
export interface FlavorMark {
  /** The preference's label (flavorLabel): its name, or "id <id>". */
  flavor: string;
  /** "no room (NoValidHost)" or "hit quota (...)": in the notice's words. */
  cause: string;
  /** ISO-8601: the latest refusal. */
  at: string;
  /** ISO-8601: new boots skip the flavor until then. */
  until: string;
  /** Refusals in a row (each outside the previous mark), >= 1: the duration doubles with each. */
  strikes: number;
  /** ERROR servers already counted for this flavor. */
  servers: string[];
}

/** A capacity or quota refusal of one flavor, seen by a tick. */
export interface FlavorRefusal {
  flavor: string;
  cause: string;
  /** The ERROR server it was, when it was one. */
  serverId?: string;
}

/** The flavor a tick boots and why. */
export interface FlavorChoice {
  ref: ResourceRef;
  label: string;
  /** Its place in the preferences (0: preferred). */
  index: number;
  fallback: boolean;
  /** "preferred flavor m1.large", or "m1.large has no room (NoValidHost), booting m1.medium until 10:30". */
  reason: string;
  /** ISO-8601, on a fallback: when the first skipped (better) flavor is tried again. */
  until?: string;
}

/** The rules' flavor as a list of preferences (one flavor is a list of one). */
export function flavorPreferences(flavor: FlavorRules | undefined): ResourceRef[] {
  if (flavor === undefined) return [];
  return Array.isArray(flavor) ? [...flavor] : [flavor];
}

/** How a preference is named in marks, notices and status. */
export function flavorLabel(ref: ResourceRef): string {
  return typeof ref === "string" ? ref : `id ${ref.id}`;
}

/** Minutes the `strikes`-th mark in a row lasts. */
export function markMinutes(strikes: number): number {
  return Math.min(MARK_MINUTES * 2 ** Math.max(0, strikes - 1), MAX_MARK_MINUTES);
}

/** True while `mark` keeps its flavor out of new boots. */
export function markHolds(mark: FlavorMark | undefined, now: Date): boolean {
  return mark !== undefined && Date.parse(mark.until) > now.getTime();
}

/** HH:MM (UTC) of an ISO time: the notice's "until". */
function clock(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

function markOf(marks: readonly FlavorMark[], label: string): FlavorMark | undefined {
  return marks.find((m) => m.flavor === label);
}

/** The flavor new boots take now: the first preference not marked (the preferred one when every one is). */
export function chooseFlavor(preferences: readonly ResourceRef[], marks: readonly FlavorMark[], now: Date): FlavorChoice | undefined {
  const first = preferences[0];
  if (first === undefined) return undefined;
  const skipped: FlavorMark[] = [];
  for (const [index, ref] of preferences.entries()) {
    const label = flavorLabel(ref);
    const mark = markOf(marks, label);
    if (preferences.length > 1 && mark !== undefined && markHolds(mark, now)) {
      skipped.push(mark);
      continue;
    }
    if (index === 0) return { ref, label, index, fallback: false, reason: `preferred flavor ${label}` };
    const until = skipped.map((m) => m.until).sort()[0] as string;
    const why = skipped.map((m) => `${m.flavor} ${m.cause}`).join(", ");
    return { ref, label, index, fallback: true, reason: `${why}, booting ${label} until ${clock(until)}`, until };
  }
  const label = flavorLabel(first);
  return { ref: first, label, index: 0, fallback: false, reason: `every flavor is marked unavailable (${skipped.map((m) => `${m.flavor} ${m.cause}`).join(", ")}): trying the preferred ${label}` };
}

/** Drops marks that ended more than FORGET_AFTER_MS ago. */
export function forgetMarks(marks: readonly FlavorMark[], now: Date): FlavorMark[] {
  return marks.filter((m) => Date.parse(m.until) + FORGET_AFTER_MS > now.getTime());
}

/**
 * Adds what one tick saw to the marks. A refusal of a flavor still marked is the same episode (its server
 * is remembered, the mark is not extended); one after the mark ended is a new strike (doubled duration);
 * an ERROR server already counted changes nothing. Returns the marks and the ones newly set.
 */
export function markFlavors(marks: readonly FlavorMark[], refusals: readonly FlavorRefusal[], now: Date): { marks: FlavorMark[]; marked: FlavorMark[] } {
  let out = forgetMarks(marks, now);
  const marked: FlavorMark[] = [];
  for (const refusal of refusals) {
    const old = markOf(out, refusal.flavor);
    if (refusal.serverId !== undefined && old?.servers.includes(refusal.serverId)) continue;
    const servers = [...(old?.servers ?? []), ...(refusal.serverId === undefined ? [] : [refusal.serverId])].slice(-MARK_SERVERS_KEPT);
    let next: FlavorMark;
    if (old !== undefined && markHolds(old, now)) {
      next = { ...old, servers };
    } else {
      const strikes = old === undefined ? 1 : old.strikes + 1;
      const at = now.toISOString();
      next = { flavor: refusal.flavor, cause: refusal.cause, at, until: new Date(now.getTime() + markMinutes(strikes) * 60_000).toISOString(), strikes, servers };
      marked.push(next);
    }
    out = [...out.filter((m) => m.flavor !== refusal.flavor), next];
  }
  return { marks: out, marked };
}

/** Nova's fault for a server its scheduler could not place (nova/exception.py NoValidHost). */
const NO_VALID_HOST = /no valid host/i;

/** The capacity cause of an ERROR server's fault ("no room (NoValidHost)"), or undefined for any other failure. */
export function capacityCause(fault: ObservedServer["fault"]): string | undefined {
  return fault !== undefined && NO_VALID_HOST.test(fault.message) ? "has no room (NoValidHost)" : undefined;
}

/** The cause a boot refused for quota gives its flavor ("hit quota (Quota exceeded for cores ...)"). */
export function quotaCause(message: string): string {
  return `hit quota (${message.length > 120 ? `${message.slice(0, 120)}…` : message})`;
}

/** Ids the shell resolved the preferences to (label -> flavor id), to match members listed with an id only (before 2.47). */
export type FlavorIds = Readonly<Record<string, string>>;

/** The preference a server runs, by the listing's flavor name (2.47+) or id; -1 when it is none of them or the listing does not say. */
export function preferenceOf(server: Pick<ObservedServer, "flavorName" | "flavorId">, preferences: readonly ResourceRef[], ids: FlavorIds = {}): number {
  return preferences.findIndex((ref) => {
    const label = flavorLabel(ref);
    if (typeof ref !== "string" && server.flavorId === ref.id) return true;
    if (typeof ref === "string" && server.flavorName === ref) return true;
    const id = ids[label];
    return id !== undefined && server.flavorId === id;
  });
}

/** The refusals a listing shows: ERROR members with NoValidHost on one of the preferences. */
export function refusalsOf(members: readonly ObservedServer[], preferences: readonly ResourceRef[], ids: FlavorIds = {}): FlavorRefusal[] {
  return members.flatMap((s) => {
    if (s.status !== "ERROR") return [];
    const cause = capacityCause(s.fault);
    const index = preferenceOf(s, preferences, ids);
    const ref = preferences[index];
    return cause === undefined || ref === undefined ? [] : [{ flavor: flavorLabel(ref), cause, serverId: s.id }];
  });
}

/** How a member's flavor stands against the preferences: what the status view and the rolling refresh read. */
export interface FlavorDrift {
  /** The flavor it runs: the preference's label, else the listing's name or id; null when the listing does not say. */
  flavor: string | null;
  /** Its place in the preferences (-1: none of them, or unknown). */
  index: number;
  /** True when the member is not on the preferred flavor (a fallback, or a flavor the rules no longer name). */
  drift: boolean;
  why: "preferred" | "fallback" | "not-in-rules" | "unknown";
}

/**
 * Whether a member runs the preferred flavor. The rolling refresh (another part of issue 31) replaces
 * drifted members in its window; this module never moves a member itself. `ids` match listings that give
 * only the flavor's id (before 2.47).
 */
export function flavorDrift(member: Pick<ObservedServer, "flavorName" | "flavorId">, preferences: readonly ResourceRef[], ids: FlavorIds = {}): FlavorDrift {
  const index = preferenceOf(member, preferences, ids);
  const ref = preferences[index];
  if (ref !== undefined) return { flavor: flavorLabel(ref), index, drift: index > 0, why: index === 0 ? "preferred" : "fallback" };
  const named = member.flavorName ?? member.flavorId ?? null;
  if (named === null) return { flavor: null, index: -1, drift: false, why: "unknown" };
  return { flavor: named, index: -1, drift: preferences.length > 0, why: "not-in-rules" };
}

/**
 * The status view's sentence for a member's flavor (why it runs it). `refreshes`: whether the group has a
 * rolling refresh, the only thing that moves a member off its flavor (without one it stays until scale-in).
 */
export function flavorWhy(drift: FlavorDrift, preferences: readonly ResourceRef[], marks: readonly FlavorMark[], now: Date, refreshes = true): string {
  const preferred = preferences[0] === undefined ? undefined : flavorLabel(preferences[0]);
  if (drift.why === "preferred") return `preferred flavor ${drift.flavor}`;
  if (drift.why === "unknown") return "the listing does not say its flavor";
  const stays = "it stays until scale-in (the group has no refresh rules)";
  if (drift.why === "not-in-rules") return `${drift.flavor} is not in the rules' flavors: ${refreshes ? "the rolling refresh replaces it" : stays}`;
  const mark = preferred === undefined ? undefined : markOf(marks, preferred);
  if (mark !== undefined && markHolds(mark, now)) return `fallback: ${mark.flavor} ${mark.cause} until ${clock(mark.until)}`;
  return `fallback: booted while ${preferred} was unavailable; ${refreshes ? `the rolling refresh returns it to ${preferred}` : stays}`;
}

/**
 * Whether the rolling refresh moves a member off its flavor now. A member on a flavor the rules no longer
 * name is moved. A member on a listed fallback is moved only when a better preference is not marked
 * unavailable (the group returns to the preferred flavor through the refresh, in its window); while the
 * preferred one is marked it stays. With every flavor marked nothing is better: it stays too. A member
 * whose flavor the listing does not give is left alone.
 */
export function flavorDriftNow(
  member: Pick<ObservedServer, "flavorName" | "flavorId">,
  preferences: readonly ResourceRef[],
  marks: readonly FlavorMark[],
  now: Date,
  ids: FlavorIds = {},
): boolean {
  const drift = flavorDrift(member, preferences, ids);
  if (drift.why === "not-in-rules") return true;
  if (drift.why !== "fallback") return false;
  const better = preferences.slice(0, drift.index).some((ref) => !markHolds(markOf(marks, flavorLabel(ref)), now));
  return better;
}
