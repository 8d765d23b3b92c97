// Pure retention: keep or delete each of a set of snapshots, with the reason; the one function groups, policies, previews and tests call.
import { z } from "zod";
import { formatInZone } from "../schedule/schedule.ts";
import type { ObservedImage } from "../model/types.ts";

/**
 * Calendar retention with restic's `forget` semantics. Each rule walks the snapshots newest first and keeps
 * the newest snapshot of each of its buckets (a day, an ISO week, a month, a year) until it has kept its
 * count; buckets overlap, so one snapshot can be the daily, the weekly and the monthly one at once.
 * Buckets are read from the snapshot's firing time in the policy's time zone.
 */
export interface CalendarRetention {
  keepLast?: number | undefined;
  keepDaily?: number | undefined;
  keepWeekly?: number | undefined;
  keepMonthly?: number | undefined;
  keepYearly?: number | undefined;
  /** e.g. "7d", "1y6m", "36h": keep everything within this of the newest snapshot (restic's --keep-within). */
  keepWithin?: string | undefined;
}

/** What else in the project needs images; gathered by the tick from its project-wide server listing and every group's rules. */
export interface RetentionGuard {
  /** Image id -> the groups whose rules name it by id. */
  namedById: Readonly<Record<string, readonly string[]>>;
  /** Image name -> the groups whose rules name it (a name resolves to an image carrying it, so every such image is kept). */
  namedByName: Readonly<Record<string, readonly string[]>>;
  /** Image id -> how many servers in the project were booted from it. */
  inUse: Readonly<Record<string, number>>;
}

/** The guard as remembered by a group's Durable Object (for status between cron ticks). */
export const RetentionGuardSchema = z.object({
  namedById: z.record(z.string(), z.array(z.string())),
  namedByName: z.record(z.string(), z.array(z.string())),
  inUse: z.record(z.string(), z.number().int().min(0)),
});

export interface RetentionSnapshot {
  image: ObservedImage;
  /** The firing it was taken for (ISO, UTC); its upload time when it has none. */
  at: string;
  /** Taken on request (POST ... /snapshots): kept apart from the scheduled ones. */
  manual: boolean;
  /** The server it was taken from, or null when unknown. */
  source: string | null;
}

export interface RetentionInput {
  snapshots: readonly RetentionSnapshot[];
  rules: CalendarRetention;
  /** How many active manual snapshots to keep (newest first); they never count toward `rules`. */
  keepManual: number;
  timezone: string;
  now: Date;
  /** The latest firing of the schedule (ISO, UTC), or null when it has never fired. */
  latestFiring: string | null;
  /** Per source server (snapshot policies: a server's history is its own) or over the whole set (a group's). */
  perSource: boolean;
  /**
   * Per source only: the servers selected now. Each one's snapshots wait for its own snapshot of the latest
   * firing (a server still waiting for a slot, busy or failing keeps its older ones). Sources not listed are
   * gone: theirs wait for the firing to be served at all. Undefined: every source is treated as present.
   */
  presentSources?: readonly string[];
  /** What else needs images; undefined when this tick has no project-wide view (then nothing is deleted). */
  guard: RetentionGuard | undefined;
  /** A snapshot of an earlier firing still queued/saving this long after upload will not finish: cleaned up. */
  stuckAfterMs: number;
}

export interface RetentionDecision {
  image: ObservedImage;
  at: string;
  manual: boolean;
  source: string | null;
  action: "keep" | "delete";
  /** e.g. "daily 2026-11-29, weekly 2026-W48", "not kept by keepLast 3", "kept: in use by 3 servers". */
  reason: string;
  /** A safety rule (named by a group, in use, the latest firing's) kept an image the rules alone would delete. */
  heldBack: boolean;
  /** Kept for now only because something is still to come (a snapshot in progress, a firing not served yet): a later run decides again. */
  pending?: true;
  /** Held back because it is a volume-backed server's snapshot (its Cinder volume snapshots would be left behind). */
  volumeBacked?: true;
  /** Would be deleted, but this tick has no project-wide view (a tick from the API): the next cron tick decides. */
  deferred: boolean;
}

const IN_PROGRESS = new Set(["queued", "saving", "uploading", "importing"]);

/** An image Glance is still making (any case: Nova's proxy answers upper case). */
export function isImageInProgress(status: string): boolean {
  return IN_PROGRESS.has(status.toLowerCase());
}
/**
 * An upload that will not finish: still queued/saving (Glance's in-progress states) though it was made for a
 * firing before the latest one and more than `stuckAfterMs` ago (policies and groups: their graceHours).
 * It no longer counts as in flight, and retention deletes it (it holds nothing a server could boot from).
 */
export function isStuckUpload(image: ObservedImage, at: string, latestFiring: string | null, now: Date, stuckAfterMs: number): boolean {
  if (!isImageInProgress(image.status) || latestFiring === null || !(at < latestFiring)) return false;
  const created = Date.parse(image.created);
  return !Number.isNaN(created) && created < now.getTime() - stuckAfterMs;
}

/** Failed attempts retention removes (the rest, e.g. deleted or deactivated, are going away or not ours to judge). */
const CLEANABLE_FAILED = new Set(["killed", "error"]);

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The local calendar date of `iso` in `timezone`: [year, month, day]. */
function localDate(iso: string, timezone: string): [number, number, number] {
  const local = formatInZone(new Date(iso), timezone);
  return [Number(local.slice(0, 4)), Number(local.slice(5, 7)), Number(local.slice(8, 10))];
}

/** ISO-8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  date.setUTCDate(date.getUTCDate() - weekday + 3); // the Thursday of this week decides its year
  const weekYear = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(weekYear, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  const week = 1 + Math.round((date.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return `${weekYear}-W${pad(week)}`;
}

const WITHIN_PATTERN = /^(?:(\d{1,4})y)?(?:(\d{1,4})m)?(?:(\d{1,5})d)?(?:(\d{1,6})h)?$/;

/** Why a keepWithin duration is unusable, or undefined. */
export function keepWithinProblem(duration: string): string | undefined {
  return duration !== "" && WITHIN_PATTERN.test(duration) ? undefined : "a duration like '7d', '2y6m', '1m15d' or '36h' (y, m, d, h in that order)";
}

/** `latest` minus the duration, by calendar (UTC): restic's AddDate(-y, -m, -d) then -h. */
function withinStart(latest: string, duration: string): number {
  const m = WITHIN_PATTERN.exec(duration);
  const [y, mo, d, h] = [1, 2, 3, 4].map((i) => Number(m?.[i] ?? 0)) as [number, number, number, number];
  const t = new Date(latest);
  const start = Date.UTC(t.getUTCFullYear() - y, t.getUTCMonth() - mo, t.getUTCDate() - d, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds());
  return start - h * 3_600_000;
}

type Bucketer = (s: RetentionSnapshot, index: number) => string;

interface Rule {
  name: string;
  count: number;
  bucket: Bucketer;
  label: (key: string, index: number) => string;
}

function calendarRules(rules: CalendarRetention, timezone: string): Rule[] {
  // One zone conversion per distinct firing (a policy's servers share their firings), not one per rule and snapshot.
  const days = new Map<string, [number, number, number]>();
  const day = (s: RetentionSnapshot) => {
    let d = days.get(s.at);
    if (d === undefined) days.set(s.at, (d = localDate(s.at, timezone)));
    return d;
  };
  const out: Rule[] = [];
  const add = (name: string, count: number | undefined, bucket: Bucketer, label: Rule["label"]) => {
    if (count !== undefined && count > 0) out.push({ name, count, bucket, label });
  };
  add("keepLast", rules.keepLast, (_s, i) => String(i), (_k, i) => `last #${i + 1}`);
  add("keepDaily", rules.keepDaily, (s) => day(s).map((n, i) => pad(n, i === 0 ? 4 : 2)).join("-"), (k) => `daily ${k}`);
  add("keepWeekly", rules.keepWeekly, (s) => isoWeek(...day(s)), (k) => `weekly ${k}`);
  add("keepMonthly", rules.keepMonthly, (s) => `${pad(day(s)[0], 4)}-${pad(day(s)[1])}`, (k) => `monthly ${k}`);
  add("keepYearly", rules.keepYearly, (s) => pad(day(s)[0], 4), (k) => `yearly ${k}`);
  return out;
}

export function describeRules(rules: CalendarRetention): string {
  const parts = (["keepLast", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly", "keepWithin"] as const).flatMap((k) =>
    rules[k] === undefined ? [] : [`${k} ${rules[k]}`],
  );
  return parts.join(", ") || "no rule";
}

function hasRule(rules: CalendarRetention): boolean {
  return calendarRules(rules, "UTC").length > 0 || rules.keepWithin !== undefined;
}

/** Newest first: by firing, then upload time, then id (a total order, so decisions are deterministic). */
export function newestFirst(a: RetentionSnapshot, b: RetentionSnapshot): number {
  const d = Date.parse(b.at) - Date.parse(a.at);
  if (d !== 0 && !Number.isNaN(d)) return d;
  const c = Date.parse(b.image.created) - Date.parse(a.image.created);
  if (c !== 0 && !Number.isNaN(c)) return c;
  return a.image.id < b.image.id ? 1 : a.image.id > b.image.id ? -1 : 0;
}

/** newestFirst over many snapshots, each time parsed once (a comparator parsing dates is O(n log n) parses). */
function sortNewestFirst(snapshots: readonly RetentionSnapshot[]): RetentionSnapshot[] {
  const keyed = snapshots.map((s) => ({ s, at: Date.parse(s.at), created: Date.parse(s.image.created) }));
  keyed.sort((a, b) => {
    const d = b.at - a.at;
    if (d !== 0 && !Number.isNaN(d)) return d;
    const c = b.created - a.created;
    if (c !== 0 && !Number.isNaN(c)) return c;
    return a.s.image.id < b.s.image.id ? 1 : a.s.image.id > b.s.image.id ? -1 : 0;
  });
  return keyed.map((k) => k.s);
}

/** restic's forget over one history (newest first): the reasons each snapshot is kept for; none means delete. */
function forget(history: readonly RetentionSnapshot[], rules: CalendarRetention, buckets: readonly Rule[]): string[][] {
  const reasons = history.map((): string[] => []);
  if (!hasRule(rules)) return history.map(() => ["no retention rule: everything is kept"]);
  const oldest = history.length - 1;
  for (const rule of buckets) {
    let left = rule.count;
    let last: string | undefined;
    history.forEach((s, i) => {
      if (left === 0) return;
      const key = rule.bucket(s, i);
      // restic >= 0.16: a rule with count left when the snapshots run out also keeps the oldest one
      // (its bucket already has a newer snapshot), so `keepYearly: 10` of a young history keeps its start.
      if (key === last && i !== oldest) return;
      const label = rule.label(key, i);
      reasons[i]!.push(key === last ? `oldest ${label}` : label);
      last = key;
      left--;
    });
  }
  if (rules.keepWithin !== undefined && history.length > 0) {
    // Strictly after the cutoff, as restic's `cur.Time.After(t)`: `7d` of a nightly history keeps 7, not 8.
    const start = withinStart(history[0]!.at, rules.keepWithin);
    history.forEach((s, i) => {
      if (Date.parse(s.at) > start) reasons[i]!.push(`within ${rules.keepWithin} of the newest`);
    });
  }
  return reasons;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/**
 * A snapshot of a volume-backed server: Glance holds only a block device mapping whose Cinder volume
 * snapshots deleting the image would leave behind (novascale does not speak Cinder), so it is never pruned.
 */
export function isVolumeBacked(image: ObservedImage): boolean {
  const bdm = image.properties["block_device_mapping"];
  return bdm !== undefined && bdm.includes("snapshot_id");
}

/** A table's own entry (an image named "constructor" must not find Object.prototype's). */
function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function setOwn<T>(table: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Why a safety rule keeps this image, or undefined when none does. */
function safetyHold(image: ObservedImage, guard: RetentionGuard): string | undefined {
  // Most images are none of these: answer without building anything.
  const byId = ownEntry(guard.namedById, image.id);
  const byName = image.name === "" ? undefined : ownEntry(guard.namedByName, image.name);
  const servers = ownEntry(guard.inUse, image.id) ?? 0;
  if (!isVolumeBacked(image) && byId === undefined && byName === undefined && servers === 0) return undefined;
  const holds: string[] = [];
  if (isVolumeBacked(image)) holds.push("volume-backed: deleting the image would leave its Cinder volume snapshots behind; delete both by hand");
  if (byId !== undefined && byId.length > 0) holds.push(`group${byId.length === 1 ? "" : "s"} ${byId.map((g) => `'${g}'`).join(", ")} boot${byId.length === 1 ? "s" : ""} from it (by id)`);
  if (byName !== undefined && byName.length > 0) holds.push(`group${byName.length === 1 ? "" : "s"} ${byName.map((g) => `'${g}'`).join(", ")} name${byName.length === 1 ? "s" : ""} it ('${image.name}')`);
  if (servers > 0) holds.push(`in use by ${plural(servers, "server")}`);
  return holds.length === 0 ? undefined : `kept: ${holds.join("; ")}`;
}

/**
 * Decides every snapshot: keep or delete, and why. Safety rules override the rules: nothing is deleted
 * while the latest firing's snapshot is not active (per source: nothing of a server before its own is), or
 * without a project-wide view this tick; never the
 * latest firing's snapshot, an image a group's rules name (by id or name), an image a server was booted
 * from, or a source server's newest active snapshot. Only the snapshots handed in are ever decided on:
 * callers hand in only images novascale made for this group or policy.
 */
export function decideRetention(input: RetentionInput): RetentionDecision[] {
  const { rules, timezone, latestFiring } = input;
  const sorted = sortNewestFirst(input.snapshots);
  const status = (s: RetentionSnapshot) => s.image.status.toLowerCase();
  const decided = new Map<RetentionSnapshot, { action: "keep" | "delete"; reason: string }>();

  // Scheduled, active: the calendar, per source server or over the whole set.
  const scheduled = sorted.filter((s) => !s.manual && status(s) === "active");
  const histories = new Map<string, RetentionSnapshot[]>();
  for (const s of scheduled) {
    const key = input.perSource ? (s.source ?? "") : "";
    const history = histories.get(key);
    if (history === undefined) histories.set(key, [s]);
    else history.push(s);
  }
  const buckets = calendarRules(rules, timezone);
  const notKept = `not kept by ${describeRules(rules)}`;
  for (const history of histories.values()) {
    const reasons = forget(history, rules, buckets);
    history.forEach((s, i) => {
      const why = reasons[i]!;
      // The newest of a history is never deleted, whatever the rules (a server's last snapshot; the group's last).
      if (i === 0 && why.length === 0) why.push(input.perSource ? `newest of server ${s.source ?? "unknown"}` : "newest of the group");
      decided.set(s, why.length > 0 ? { action: "keep", reason: why.join(", ") } : { action: "delete", reason: notKept });
    });
  }

  // Manual, active: their own bound, never counted above.
  sorted
    .filter((s) => s.manual && status(s) === "active")
    .forEach((s, i) => {
      decided.set(
        s,
        i < input.keepManual
          ? { action: "keep", reason: `manual #${i + 1} of keepManual ${input.keepManual}` }
          : { action: "delete", reason: `manual: older than the ${plural(input.keepManual, "newest manual snapshot")} kept` },
      );
    });

  // Everything not active.
  const stuck = new Set<RetentionSnapshot>();
  for (const s of sorted) {
    if (decided.has(s)) continue;
    const st = status(s);
    if (CLEANABLE_FAILED.has(st)) decided.set(s, { action: "delete", reason: `cleanup: the attempt ended '${st}'` });
    else if (isStuckUpload(s.image, s.at, latestFiring, input.now, input.stuckAfterMs)) {
      stuck.add(s);
      decided.set(s, { action: "delete", reason: `cleanup: stuck upload, '${st}' since ${s.image.created}${s.source === null ? "" : ` (server ${s.source})`}, it will not finish` });
    } else decided.set(s, { action: "keep", reason: IN_PROGRESS.has(st) ? `in progress ('${st}')` : `status '${st}': left alone` });
  }

  // Safety rules, last, so they override everything above.
  const ofLatest = new Set(sorted.filter((s) => !s.manual && latestFiring !== null && s.at === latestFiring));
  const served = (of: Iterable<RetentionSnapshot>) => {
    let active = false;
    for (const s of of) {
      if (IN_PROGRESS.has(status(s))) return false;
      active ||= status(s) === "active";
    }
    return active;
  };
  const latestServed = served(ofLatest);
  // Per source: a server's snapshots wait for its own snapshot of the latest firing (gone servers' do not).
  const latestBySource = new Map<string, RetentionSnapshot[]>();
  for (const s of ofLatest) latestBySource.set(s.source ?? "", [...(latestBySource.get(s.source ?? "") ?? []), s]);
  const present = input.presentSources === undefined ? undefined : new Set(input.presentSources);
  const sourceWaits = (s: RetentionSnapshot): string | undefined => {
    if (!input.perSource || latestFiring === null || s.manual) return undefined;
    const source = s.source ?? "";
    if (present !== undefined && !present.has(source)) return undefined;
    return served(latestBySource.get(source) ?? []) ? undefined : `server ${s.source ?? "unknown"}'s snapshot for ${latestFiring} is not active yet`;
  };
  return sorted.map((s): RetentionDecision => {
    const d = decided.get(s)!;
    const base = { image: s.image, at: s.at, manual: s.manual, source: s.source };
    const keep = (reason: string, heldBack = false, deferred = false, marks: { pending?: true; volumeBacked?: true } = {}): RetentionDecision => ({ ...base, action: "keep", reason, heldBack, deferred, ...marks });
    const PENDING = { pending: true } as const;
    if (d.action === "keep") return IN_PROGRESS.has(status(s)) ? keep(d.reason, false, false, PENDING) : keep(d.reason);
    if (stuck.has(s)) {
      // Nothing waits for a stuck upload (it is what kept the latest firing from being served): only the guard can keep it.
      if (input.guard === undefined) return keep(`waits: no project-wide view of servers and groups this tick (then: ${d.reason})`, false, true, PENDING);
      const held = safetyHold(s.image, input.guard);
      if (held !== undefined) return keep(`${held} (otherwise: ${d.reason})`, true);
      return { ...base, action: "delete", reason: d.reason, heldBack: false, deferred: false };
    }
    if (ofLatest.has(s) && status(s) === "active") return keep(`kept: the latest firing's snapshot (otherwise: ${d.reason})`, true);
    if (latestFiring === null || !latestServed) {
      const why = latestFiring === null ? "the schedule has not fired yet" : `the snapshot for ${latestFiring} is not active yet`;
      return keep(`waits: ${why} (then: ${d.reason})`, false, false, PENDING);
    }
    const waits = sourceWaits(s);
    if (waits !== undefined) return keep(`waits: ${waits} (then: ${d.reason})`, false, false, PENDING);
    if (input.guard === undefined) return keep(`waits: no project-wide view of servers and groups this tick (then: ${d.reason})`, false, true, PENDING);
    const hold = safetyHold(s.image, input.guard);
    if (hold !== undefined) return keep(`${hold} (otherwise: ${d.reason})`, true, false, isVolumeBacked(s.image) ? { volumeBacked: true } : {});
    return { ...base, action: "delete", reason: d.reason, heldBack: false, deferred: false };
  });
}

/**
 * What else needs images, from the tick's project-wide listing and every group's rules: images named by
 * id or by name, and how many servers were booted from each image.
 */
export function retentionGuard(
  groups: ReadonlyArray<{ name: string; image: string | { id: string } }>,
  servers: ReadonlyArray<{ imageId?: string | undefined }>,
): RetentionGuard {
  // Own entries only: a group naming an image "constructor" or "__proto__" gets an entry like any other
  // (plain objects, as they cross RPC to the Durable Objects).
  const namedById: Record<string, string[]> = {};
  const namedByName: Record<string, string[]> = {};
  for (const g of groups) {
    const table = typeof g.image === "string" ? namedByName : namedById;
    const key = typeof g.image === "string" ? g.image : g.image.id;
    const names = ownEntry(table, key);
    if (names === undefined) setOwn(table, key, [g.name]);
    else names.push(g.name);
  }
  const inUse: Record<string, number> = {};
  for (const s of servers) if (s.imageId !== undefined && s.imageId !== "") setOwn(inUse, s.imageId, (ownEntry(inUse, s.imageId) ?? 0) + 1);
  return { namedById, namedByName, inUse };
}

/**
 * Both guards at once: an image either names or counts is held (the tick's view from KV and the
 * registry's current rules read at prune time, issue 24 item 4). Server counts take the larger.
 */
export function mergeGuards(a: RetentionGuard, b: RetentionGuard): RetentionGuard {
  const names = (x: Readonly<Record<string, readonly string[]>>, y: Readonly<Record<string, readonly string[]>>) => {
    const out: Record<string, string[]> = {};
    for (const table of [x, y]) {
      for (const key of Object.keys(table)) {
        const have = ownEntry(out, key) ?? [];
        for (const g of ownEntry(table, key) ?? []) if (!have.includes(g)) have.push(g);
        setOwn(out, key, have);
      }
    }
    return out;
  };
  const inUse: Record<string, number> = {};
  for (const table of [a.inUse, b.inUse]) for (const key of Object.keys(table)) setOwn(inUse, key, Math.max(ownEntry(inUse, key) ?? 0, ownEntry(table, key) ?? 0));
  return { namedById: names(a.namedById, b.namedById), namedByName: names(a.namedByName, b.namedByName), inUse };
}
