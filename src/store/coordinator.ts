// Durable Object storage of one group: override, pause, boot block, last tick, activity log, history, snapshot slot.
import { z } from "zod";
import { OverrideSchema, type Override } from "../config/group.ts";
import type { HistoryPoint } from "../core/scaling/history.ts";
import type { BootBackoff } from "../core/scaling/boot-backoff.ts";
import type { RefreshState } from "../core/scaling/refresh.ts";
import type { ActivityEntry, BootBlock, PauseState, TickRecord } from "../core/records.ts";
import { ActivityLog } from "./activity-log.ts";
import { readParsed } from "./parsed.ts";
import { rulesFenceSchema, type RulesFenceOf } from "./rules.ts";


const KEY = {
  override: "override",
  pause: "pause",
  bootBlock: "bootBlock",
  bootBackoff: "bootBackoff",
  refresh: "refresh",
  refreshRequest: "refreshRequest",
  lastTick: "lastTick",
  lastActionAt: "lastActionAt",
  appliedNow: "appliedNow",
  lostBoots: "lostBoots",
  rules: "rules:group",
  slotPrefix: "slot:",
} as const;

const PauseStateSchema = z.object({ by: z.string(), reason: z.string().optional(), at: z.string() });
const BootBlockSchema = z.object({ etag: z.string(), revision: z.number().optional(), reason: z.string(), at: z.string(), requestId: z.string().optional() });
const BootBackoffSchema = z.object({
  failures: z.number().int().min(1),
  since: z.string(),
  lastAt: z.string(),
  until: z.string(),
  cause: z.string(),
  revision: z.number(),
  counted: z.array(z.string()),
  watching: z.array(z.string()),
});
/** An open (or halted, or finished) rolling refresh (core/scaling/refresh.ts). */
export const RefreshStateSchema = z.object({
  targetImageId: z.string(),
  targetFlavor: z.string().optional(),
  startedAt: z.string(),
  trigger: z.enum(["drift", "manual"]),
  ignoreWindow: z.boolean(),
  replaced: z.number().int().min(0),
  failedIds: z.array(z.string()),
  activeSince: z.record(z.string(), z.string()),
  halted: z.object({ reason: z.string(), at: z.string() }).optional(),
  completedAt: z.string().optional(),
});
const DesiredSchema = z.object({
  value: z.number(),
  reason: z.string(),
  source: z.enum(["paused", "override", "signal", "exception", "window", "schedule", "default", "min"]),
  unclamped: z.number().optional(),
});
// Steps, results and notices are our own data written by this code; their inner shape is checked loosely.
const TickRecordSchema = z.object({
  at: z.string(),
  trigger: z.enum(["cron", "manual"]),
  author: z.string().optional(),
  rulesEtag: z.string(),
  rulesRevision: z.number().optional(),
  desired: DesiredSchema,
  actualByStatus: z.record(z.string(), z.number()),
  counted: z.number(),
  listing: z.enum(["complete", "failed"]),
  steps: z.array(z.object({ kind: z.string() }).loose()),
  results: z.array(z.object({ outcome: z.string() }).loose()),
  notices: z.array(z.object({ level: z.string(), code: z.string(), message: z.string() })),
  errors: z.array(z.object({ operation: z.string(), category: z.string(), message: z.string() }).loose()),
  health: z.enum(["steady", "converging", "paused", "capacity-limited", "error", "unknown"]),
  lastSeenAt: z.string().optional(),
  tickRequestId: z.string().optional(),
  deferred: z.object({ reason: z.enum(["subrequests", "deadline"]), steps: z.number().int(), message: z.string() }).optional(),
  refresh: z.object({ targetImageId: z.string() }).loose().optional(),
});
// sentAt came later: records without it stay readable (the hold then counts from `at`).
const LostBootSchema = z.object({ intent: z.string(), count: z.number().int(), at: z.string(), sentAt: z.string().optional() });
export type LostBoot = z.infer<typeof LostBootSchema>;
/** The group's rules fence (see RulesFenceOf). */
export type RulesFence = RulesFenceOf<"group">;
const RulesFenceSchema = rulesFenceSchema("group");

type HistoryRow = { at: number; desired: number; actual: string };
const ActualSchema = z.record(z.string(), z.number().int().min(0));

/** A stored history row as a point; an unreadable row reads as nothing. */
function toHistoryPoint(row: HistoryRow): HistoryPoint[] {
  try {
    const actual = ActualSchema.safeParse(JSON.parse(row.actual));
    return actual.success && Number.isFinite(row.at) && Number.isInteger(row.desired) ? [{ at: row.at, desired: row.desired, actual: actual.data }] : [];
  } catch {
    return [];
  }
}

/** Typed access to one group's Durable Object storage; every read is parsed, a bad value reads as absent. */
export class CoordinatorStore {
  private readonly storage: DurableObjectStorage;
  private readonly activityLog: ActivityLog;
  private historyReady = false;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    this.activityLog = new ActivityLog(storage.sql);
  }

  private read<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return readParsed(this.storage, key, schema, "group");
  }

  getOverride(): Promise<Override | undefined> {
    return this.read(KEY.override, OverrideSchema);
  }
  async setOverride(value: Override | undefined): Promise<void> {
    if (value === undefined) await this.storage.delete(KEY.override);
    else await this.storage.put(KEY.override, value);
  }

  getPause(): Promise<PauseState | undefined> {
    return this.read(KEY.pause, PauseStateSchema);
  }
  async setPause(value: PauseState | undefined): Promise<void> {
    if (value === undefined) await this.storage.delete(KEY.pause);
    else await this.storage.put(KEY.pause, value);
  }

  getBootBlock(): Promise<BootBlock | undefined> {
    return this.read(KEY.bootBlock, BootBlockSchema);
  }
  async setBootBlock(value: BootBlock | undefined): Promise<void> {
    if (value === undefined) await this.storage.delete(KEY.bootBlock);
    else await this.storage.put(KEY.bootBlock, value);
  }

  /** Repeated boot failures (core/scaling/boot-backoff.ts); absent when boots do not wait. */
  getBootBackoff(): Promise<BootBackoff | undefined> {
    return this.read(KEY.bootBackoff, BootBackoffSchema);
  }
  async setBootBackoff(value: BootBackoff | undefined): Promise<void> {
    if (value === undefined) await this.storage.delete(KEY.bootBackoff);
    else await this.storage.put(KEY.bootBackoff, value);
  }

  /** The group's rolling refresh; absent when none was ever started (or it was cancelled). */
  getRefresh(): Promise<RefreshState | undefined> {
    return this.read(KEY.refresh, RefreshStateSchema) as Promise<RefreshState | undefined>;
  }
  async setRefresh(value: RefreshState | undefined): Promise<void> {
    if (value === undefined) await this.storage.delete(KEY.refresh);
    else await this.storage.put(KEY.refresh, value);
  }

  /** A manual start waiting for the next reconcile (which pins the target image). */
  getRefreshRequest(): Promise<{ author: string; at: string; ignoreWindow: boolean } | undefined> {
    return this.read(KEY.refreshRequest, z.object({ author: z.string(), at: z.string(), ignoreWindow: z.boolean() }));
  }
  async setRefreshRequest(value: { author: string; at: string; ignoreWindow: boolean } | undefined): Promise<void> {
    if (value === undefined) await this.storage.delete(KEY.refreshRequest);
    else await this.storage.put(KEY.refreshRequest, value);
  }

  async getLastTick(): Promise<TickRecord | undefined> {
    return (await this.read(KEY.lastTick, TickRecordSchema)) as TickRecord | undefined;
  }
  async setLastTick(value: TickRecord): Promise<void> {
    await this.storage.put(KEY.lastTick, value);
  }

  /** Wall-clock ms when this group last sent a boot or delete (the staleness mark for listings). */
  async getLastActionAt(): Promise<number> {
    return (await this.read(KEY.lastActionAt, z.number())) ?? 0;
  }
  async setLastActionAt(ms: number): Promise<void> {
    await this.storage.put(KEY.lastActionAt, ms);
  }

  /** The newest request `now` (epoch ms) this group reconciled at: an older request is refused as stale (0: none yet). */
  async getAppliedNow(): Promise<number> {
    return (await this.read(KEY.appliedNow, z.number())) ?? 0;
  }
  async setAppliedNow(ms: number): Promise<void> {
    await this.storage.put(KEY.appliedNow, ms);
  }

  /** Boots whose answer was lost: settled by a later listing (their BOOT_INTENT_KEY marker). */
  async getLostBoots(): Promise<LostBoot[]> {
    return (await this.read(KEY.lostBoots, z.array(LostBootSchema))) ?? [];
  }
  async setLostBoots(value: LostBoot[]): Promise<void> {
    if (value.length === 0) await this.storage.delete(KEY.lostBoots);
    else await this.storage.put(KEY.lostBoots, value);
  }

  /** A free-form JSON slot for other features (snapshots keep their attempts here). */
  getSlot(name: string): Promise<unknown> {
    return this.storage.get(`${KEY.slotPrefix}${name}`);
  }
  async setSlot(name: string, value: unknown): Promise<void> {
    if (value === undefined) await this.storage.delete(`${KEY.slotPrefix}${name}`);
    else await this.storage.put(`${KEY.slotPrefix}${name}`, value);
  }

  /** Appends entries (oldest first) and trims the log to ACTIVITY_LIMIT rows. */
  appendActivity(entries: readonly ActivityEntry[]): void {
    this.activityLog.append(entries);
  }

  /** Newest first: the activity rows and the changes merged, or (`only: "changes"`) the changes alone. */
  readActivity(limit: number, only?: "changes"): ActivityEntry[] {
    return this.activityLog.read(limit, only);
  }

  private ensureHistoryTable(): void {
    if (this.historyReady) return;
    this.storage.sql.exec("CREATE TABLE IF NOT EXISTS history (at INTEGER PRIMARY KEY, desired INTEGER NOT NULL, actual TEXT NOT NULL)");
    this.historyReady = true;
  }

  /** Stores one history point (a point at the same instant is replaced). */
  appendHistory(point: HistoryPoint): void {
    this.ensureHistoryTable();
    this.storage.sql.exec("INSERT OR REPLACE INTO history (at, desired, actual) VALUES (?, ?, ?)", point.at, point.desired, JSON.stringify(point.actual));
  }

  /** History points at or after `since` (epoch ms), oldest first; every point when `since` is omitted. */
  readHistory(since = Number.NEGATIVE_INFINITY): HistoryPoint[] {
    this.ensureHistoryTable();
    const rows = Number.isFinite(since)
      ? this.storage.sql.exec<HistoryRow>("SELECT at, desired, actual FROM history WHERE at >= ? ORDER BY at", since).toArray()
      : this.storage.sql.exec<HistoryRow>("SELECT at, desired, actual FROM history ORDER BY at").toArray();
    return rows.flatMap(toHistoryPoint);
  }

  /** The newest point before `before` (epoch ms), or the newest of all. */
  lastHistory(before = Number.POSITIVE_INFINITY): HistoryPoint | undefined {
    this.ensureHistoryTable();
    const rows = Number.isFinite(before)
      ? this.storage.sql.exec<HistoryRow>("SELECT at, desired, actual FROM history WHERE at < ? ORDER BY at DESC LIMIT 1", before).toArray()
      : this.storage.sql.exec<HistoryRow>("SELECT at, desired, actual FROM history ORDER BY at DESC LIMIT 1").toArray();
    return rows.flatMap(toHistoryPoint)[0];
  }

  /** Deletes every point (the group was deleted: its chart goes with it; the activity log stays). */
  clearHistory(): void {
    this.ensureHistoryTable();
    this.storage.sql.exec("DELETE FROM history");
  }

  /** Deletes the points at these instants (thinning). */
  deleteHistory(ats: readonly number[]): void {
    if (ats.length === 0) return;
    this.ensureHistoryTable();
    for (const at of ats) this.storage.sql.exec("DELETE FROM history WHERE at = ?", at);
  }

  getRulesFence(): Promise<RulesFence | undefined> {
    return this.read(KEY.rules, RulesFenceSchema) as Promise<RulesFence | undefined>;
  }
  async setRulesFence(value: RulesFence): Promise<void> {
    await this.storage.put(KEY.rules, value);
  }

  /**
   * Forgets the group's runtime state (its rules were deleted): override, pause, boot block, records,
   * slots. The activity log and the rules fence stay: the log survives, stale ticks stay refused.
   */
  async clearRuntime(): Promise<void> {
    const keys = [...(await this.storage.list()).keys()].filter((key) => key !== KEY.rules);
    for (let i = 0; i < keys.length; i += 128) await this.storage.delete(keys.slice(i, i + 128));
  }
}
