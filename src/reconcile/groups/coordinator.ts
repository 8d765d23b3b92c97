// GroupCoordinator: the Durable Object of one group (idFromName(group)). It serialises reconciles and holds
// the group's runtime state: override, operator pause, boot block, last tick, the activity log and the history.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../config/env.ts";
import type { GroupRules, Override } from "../../config/group.ts";
import type { HistoryPoint } from "../../core/scaling/history.ts";
import type { ManualRequest } from "../../core/snapshots/manual-snapshots.ts";
import { settleLostBoots } from "../../core/scaling/lost-boots.ts";
import { isMember } from "../../core/model/membership.ts";
import { resumeTimes } from "../../core/scaling/parking.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import { CoordinatorStore, type LostBoot } from "../../store/coordinator.ts";
import { envelopeSchema } from "../../store/rules.ts";
import * as controls from "./coordinator-controls.ts";
import { deletedGroupRecord, liftsBootBlock, staleRequestRecord } from "./coordinator-fence.ts";
import { adoptDecision, FenceCell, retireAnswer, rulesChangedReason } from "../rules/fence.ts";
import { registryGuardRefresh } from "../rules/current-guard.ts";
import { afterGroupSteps } from "../../core/snapshots/policy-run.ts";
import { keptLostBoots, newlyLost, settleLost } from "./coordinator-lost-boots.ts";
import { countActions, followConditions, followControls, readCounters, type GroupCounters } from "./coordinator-notify.ts";
import { followParking, parkingLedger, pendingResumes } from "./coordinator-parking.ts";
import { adoptedServers, checkModeChange, type ModeChangeInput } from "./coordinator-adoption.ts";
import type { CoordinatorState, ReconcileRequest, RetryBootsAnswer } from "./coordinator-request.ts";
import { readFlavorMarks, writeFlavorMarks } from "./coordinator-flavors.ts";
import { rememberedGuard, snapshotAttempts, snapshotTick, storedNewestSnapshots, takeManualSnapshot } from "./coordinator-snapshots.ts";
import type { NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import { HistoryRecorder } from "./history.ts";
import { acceptSignal, createReceiver, expireSignals, RateLimiter, revokeReceiver, UNKNOWN_RECEIVER, viewOf, type CreateAnswer, type ReceiverView, type SignalAnswer, type SignalContext, type SignalRequest } from "./coordinator-signals.ts";
import type { ReceiverCreate } from "../../config/signals.ts";
import type { LiveSignal } from "../../core/schedule/signals.ts";
import { SignalStore } from "../../store/signals.ts";
import { previewNoBootReasons } from "./coordinator-preview.ts";
import { backoffDelayMs, type BootFailure } from "../../core/scaling/boot-backoff.ts";
import { Serial } from "../shared/serial.ts";
import { resilientPort, type CloudPort } from "../gateway/gateway.ts";
import type { RefreshRequest } from "./refresh.ts";
import { refreshView } from "./refresh.ts";
import type { RefreshState } from "../../core/scaling/refresh.ts";
import { reconcileGroup, recordFingerprint, toPreview, type Listing, type RuntimeState } from "./pipeline.ts";
import type { FollowAnswer, FollowUpdate, GuardAnswer } from "../rules/registry-engine.ts";
import type { ActivityEntry, PauseState, PlanPreview, ServerRef, StoredGroup, TickRecord } from "../shared/service.ts";
import { listSnapshots, runSnapshotTick, type SnapshotAnswer, type SnapshotListing, type TakeSnapshotResult } from "./snapshots.ts";

export type { CoordinatorState, ReconcileRequest } from "./coordinator-request.ts";

/**
 * A listing handed over by the tick is stale when it was taken before this group's last action
 * finished (plus this margin for clock differences between the Worker and the Durable Object):
 * it may not show the servers that action booted, so the group lists again before acting.
 */
export const LISTING_SKEW_MS = 1_000;

function shortId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("").slice(0, 7);
}

export class GroupCoordinator extends DurableObject<Env> {
  readonly #store: CoordinatorStore;
  /** Reconciles, deletes, snapshots and controls run one at a time. */
  readonly #serial = new Serial();
  #state: (RuntimeState & { lastTick: TickRecord | undefined; lastActionAt: number; lostBoots: LostBoot[]; appliedNow: number; signals: LiveSignal[]; refreshRequest: RefreshRequest | undefined }) | undefined;
  readonly #signalStore: SignalStore;
  /** Receivers and signals run one at a time among themselves, never behind a reconcile (a sender waits seconds at most). */
  readonly #signalSerial = new Serial();
  readonly #limiter = new RateLimiter();
  /** The rules fence, read once from storage. */
  readonly #fence: FenceCell<GroupRules>;
  readonly #history: HistoryRecorder;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new CoordinatorStore(ctx.storage);
    this.#signalStore = new SignalStore(ctx.storage);
    this.#history = new HistoryRecorder(this.#store);
    this.#fence = new FenceCell({
      read: () => this.#store.getRulesFence(),
      write: (fence) => this.#store.setRulesFence(fence),
      recreated: async () => {
        await this.#store.clearRuntime();
        this.#state = undefined;
      },
    });
  }

  /** Runs `work` after every earlier exclusive call has finished (whether it succeeded or not). */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#serial.run(work);
  }

  async #loaded() {
    if (this.#state === undefined) {
      const [override, pause, bootBlock, bootBackoff, lastTick, lastActionAt, lostBoots, appliedNow, signals, refresh, refreshRequest] = await Promise.all([
        this.#store.getOverride(),
        this.#store.getPause(),
        this.#store.getBootBlock(),
        this.#store.getBootBackoff(),
        this.#store.getLastTick(),
        this.#store.getLastActionAt(),
        this.#store.getLostBoots(),
        this.#store.getAppliedNow(),
        this.#signalStore.live(),
        this.#store.getRefresh(),
        this.#store.getRefreshRequest(),
      ]);
      this.#state = { override, pause, bootBlock, bootBackoff, lastTick, lastActionAt, lostBoots, appliedNow, signals, refresh, refreshRequest };
    }
    return this.#state;
  }

  async #listingFor(request: ReconcileRequest, cloud: CloudPort, lastActionAt: number): Promise<Listing> {
    const handed = request.listing;
    if (handed !== undefined && "error" in handed) return { ok: false, error: handed.error };
    if (handed !== undefined && handed.listedAt > lastActionAt + LISTING_SKEW_MS) return { ok: true, members: handed.members };
    const fresh = await cloud.listServers();
    if (!fresh.ok) return fresh;
    return { ok: true, members: fresh.value.filter((s) => isMember(s, request.group.name)) };
  }

  /** Settles the state's lost boots against a listing (coordinator-lost-boots.ts); returns the activity lines. */
  #settleLostBoots(state: { lostBoots: LostBoot[] }, members: readonly ObservedServer[], now: Date, author: string): { activity: ActivityEntry[]; failed: BootFailure[] } {
    const { pending, activity, failed } = settleLost(state.lostBoots, members, now, author);
    state.lostBoots = pending;
    return { activity, failed };
  }

  /** Reconciles the group: never two at once; records the outcome; returns the tick record. */
  reconcile(request: ReconcileRequest, gateway: CloudPort): Promise<TickRecord> {
    const cloud = resilientPort(gateway);
    return this.#exclusive(async () => {
      const fenced = await this.#fence.apply(request.group);
      // A tick that read the rules before they were deleted: acting now would boot servers nobody manages.
      if ("deleted" in fenced) return deletedGroupRecord(request, fenced.deleted);
      request = { ...request, group: fenced.entry };
      const now = new Date(request.now);
      // A request older than one already applied (a delayed cron tick behind a newer tick or an apply-now) would
      // undo it: refused, nothing done or stored. Only strictly older: an equal `now` (a retry) runs.
      const applied = (await this.#loaded()).appliedNow;
      if (now.getTime() < applied) return staleRequestRecord(request, applied, (await this.#loaded()).lastTick);
      await controls.expireOverride(await this.#loaded(), this.#store, now);
      await expireSignals(await this.#signalContext(request.group.rules), request.group.name, now);
      const state = await this.#loaded();
      state.appliedNow = now.getTime(); // in memory on every tick; stored with the record or an action (below)
      if (state.bootBlock !== undefined && liftsBootBlock(state.bootBlock, request.group)) {
        // The rules changed since Nova rejected a boot: try again with the new ones.
        this.#store.appendActivity([
          { at: request.now, kind: "boot-unblocked", author: request.author, reason: `booting resumes: the rules changed since '${state.bootBlock.reason}'` },
        ]);
        state.bootBlock = undefined;
        await this.#store.setBootBlock(undefined);
      }
      const listing = await this.#listingFor(request, cloud, state.lastActionAt);
      const resumes = await pendingResumes(this.#store);
      const bootId = shortId();
      const { activity: settled, failed: failedLostBoots } = listing.ok ? this.#settleLostBoots(state, listing.members, now, request.author) : { activity: [], failed: [] };
      const flavorMarks = await readFlavorMarks(this.#store);
      const output = await reconcileGroup({
        group: request.group,
        now,
        trigger: request.trigger,
        author: request.author,
        state: {
          override: state.override,
          pause: state.pause,
          bootBlock: state.bootBlock,
          bootBackoff: state.bootBackoff,
          pendingBoots: state.lostBoots,
          failedLostBoots,
          signals: state.signals,
          refresh: state.refresh,
          refreshRequest: state.refreshRequest,
          flavorMarks,
        },
        listing,
        cloud,
        bootId,
        dryRun: false,
        resuming: resumeTimes(resumes),
        adopted: await adoptedServers(this.#store),
        ...(request.tickRequestId === undefined ? {} : { tickRequestId: request.tickRequestId }),
      });

      if (output.acted) {
        state.lastActionAt = Date.now();
        await this.#store.setLastActionAt(state.lastActionAt);
        await this.#store.setAppliedNow(state.appliedNow);
      }
      const lost = newlyLost(output.record.results, bootId, now, request.now);
      state.lostBoots.push(...lost);
      if (settled.length > 0 || lost.length > 0) {
        state.lostBoots = keptLostBoots(state.lostBoots);
        await this.#store.setLostBoots(state.lostBoots);
      }
      if (output.bootBlock !== state.bootBlock) {
        state.bootBlock = output.bootBlock;
        await this.#store.setBootBlock(output.bootBlock);
      }
      if (output.bootBackoff !== state.bootBackoff) {
        state.bootBackoff = output.bootBackoff;
        await this.#store.setBootBackoff(output.bootBackoff);
      }
      if (listing.ok && JSON.stringify(output.refresh) !== JSON.stringify(state.refresh)) {
        state.refresh = output.refresh;
        await this.#store.setRefresh(output.refresh);
      }
      if (listing.ok && state.refreshRequest !== undefined && output.refresh?.trigger === "manual") {
        state.refreshRequest = undefined;
        await this.#store.setRefreshRequest(undefined);
      }
      if (output.flavorMarks !== flavorMarks) await writeFlavorMarks(this.#store, output.flavorMarks);
      if (listing.ok) await followParking(this.#store, request.group, listing.members, now, resumes, output.record.results);
      const activity = [...settled, ...output.activity];
      const record = output.record;
      if (fenced.notice !== undefined) record.notices.unshift(fenced.notice);
      if (listing.ok && request.group.rules.snapshots !== undefined) {
        // Snapshots ride on the same tick and the same listing, inside the same lock; a server this tick
        // just deleted is no source, and one it just parked or resumed is busy (createImage would answer 409
        // and burn an attempt): a later tick takes it.
        const deleted = new Set(record.steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
        const sources = afterGroupSteps(listing.members.filter((s) => !deleted.has(s.id)), record.results);
        const snap = await snapshotTick(this.#store, request, cloud, sources, now, async () => (await this.#loaded()).pause !== undefined, registryGuardRefresh(this.env));
        if (snap.results.length > 0 && !output.acted) {
          // A snapshot started a task on its source: a listing taken before it would show the source idle,
          // and make it look like the next scale-in victim. Later listings older than this are redone.
          state.lastActionAt = Date.now();
          await this.#store.setLastActionAt(state.lastActionAt);
        }
        record.steps.push(...snap.steps);
        record.results.push(...snap.results);
        record.notices.push(...snap.notices);
        record.errors.push(...snap.errors);
        activity.push(...snap.activity);
      }
      // Discovery answered 401/403/5xx or nothing: the calls went out as plain 2.1 (no tags, no "none"
      // networks below 2.37...). The operator should see that the cloud is being spoken to in a lesser dialect.
      const fallback = await cloud.discoveryFallback();
      if (fallback.ok && fallback.value !== null) record.notices.push({ level: "warning", code: "compute-discovery-fallback", message: fallback.value });
      // Desired and actual for the dashboard's chart: a row only when they changed.
      this.#history.record(record);
      const previous = state.lastTick;
      // Notifications: conditions opened or cleared by this outcome (steady ticks included: a grace may run out).
      await followConditions(this.env, this.#store, request.group.name, record, { bootBlock: state.bootBlock, override: state.override, pause: state.pause, rulesPaused: request.group.rules.paused }, activity);
      await countActions(this.#store, record);
      if (previous !== undefined && recordFingerprint(previous) === recordFingerprint(record)) {
        // A steady tick: same outcome as last time. Nothing is written; status shows when it was last seen.
        previous.lastSeenAt = record.at;
        this.#store.appendActivity(activity);
        return previous;
      }
      if (record.errors.length > 0 && record.results.length === 0) {
        activity.push(...record.errors.map((error): ActivityEntry => ({ at: record.at, kind: "error", author: request.author, reason: error.message, error })));
      }
      if (record.health === "capacity-limited" && previous?.health !== "capacity-limited") {
        const notice = record.notices.find((n) => n.code === "capacity-limited");
        activity.push({ at: record.at, kind: "capacity-limited", author: request.author, reason: notice?.message ?? "quota limits boots" });
      }
      state.lastTick = record;
      await this.#store.setLastTick(record);
      await this.#store.setAppliedNow(state.appliedNow);
      this.#store.appendActivity(activity);
      return record;
    });
  }

  /** History points from `since` (epoch ms) on, preceded by the one in force at `since` (for GET .../history). */
  async history(since: number): Promise<HistoryPoint[]> {
    return this.#history.since(since);
  }

  /** The group's snapshots, live (for GET /v1/groups/{name}/snapshots); changes nothing. */
  async snapshots(group: StoredGroup, now: string, cloud: CloudPort): Promise<SnapshotAnswer<SnapshotListing>> {
    return listSnapshots({
      cloud: resilientPort(cloud),
      group: group.name,
      policy: group.rules.snapshots,
      attempts: await snapshotAttempts(this.#store),
      now: new Date(now),
      guard: await rememberedGuard(this.#store),
    });
  }

  /** Takes a snapshot now, serialised with ticks and with itself, so a repeat sees the first (POST /v1/groups/{name}/snapshots). */
  takeSnapshot(group: StoredGroup, input: { author: string; now: string } & ManualRequest, cloud: CloudPort): Promise<TakeSnapshotResult> {
    return this.#exclusive(() => takeManualSnapshot(this.#store, group, input, resilientPort(cloud)));
  }

  /** What a reconcile at `request.now` would do; changes nothing (not even an expired override). */
  async preview(request: ReconcileRequest, gateway: CloudPort): Promise<PlanPreview> {
    const cloud = resilientPort(gateway);
    const state = await this.#loaded();
    const listing = await this.#listingFor(request, cloud, Number.POSITIVE_INFINITY);
    const output = await reconcileGroup({
      group: request.group,
      now: new Date(request.now),
      trigger: request.trigger,
      author: request.author,
      state: {
        override: state.override,
        pause: state.pause,
        bootBlock: state.bootBlock !== undefined && state.bootBlock.etag === request.group.etag ? state.bootBlock : undefined,
        bootBackoff: state.bootBackoff,
        pendingBoots: listing.ok ? settleLostBoots(state.lostBoots, listing.members, new Date(request.now)).pending : state.lostBoots,
        signals: state.signals,
        flavorMarks: await readFlavorMarks(this.#store),
        // The dry run shows the refresh as the next tick would run it: the open one, or the start waiting.
        refresh: state.refresh,
        refreshRequest: state.refreshRequest,
      },
      listing,
      cloud,
      bootId: "preview",
      dryRun: true,
      resuming: resumeTimes(await pendingResumes(this.#store)),
      adopted: await adoptedServers(this.#store),
    });
    const preview = toPreview(output);
    preview.noBootReasons = listing.ok ? await previewNoBootReasons({ group: request.group, now: new Date(request.now), output, state, lastTick: state.lastTick, cloud }) : [];
    const policy = request.group.rules.snapshots;
    if (listing.ok && policy !== undefined) {
      // The snapshot half of the same tick, planned only (no createImage/deleteImage, no state written).
      const deleted = new Set(preview.steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
      const members = listing.members.filter((s) => !deleted.has(s.id));
      const snap = await runSnapshotTick({ cloud, group: request.group.name, policy, members, attempts: await snapshotAttempts(this.#store), now: new Date(request.now), dryRun: true, guard: request.imageGuard ?? (await rememberedGuard(this.#store)) });
      preview.steps.push(...snap.steps);
      preview.notices.push(...snap.notices);
      preview.errors.push(...snap.errors);
    }
    return preview;
  }

  /** What GET /metrics reads: the last tick record, the cumulative counters, the members' newest snapshots (storage only, no cloud call). */
  async metrics(): Promise<{ lastTick: TickRecord | null; counters: GroupCounters; paused: boolean; snapshots: NewestSnapshot[] }> {
    const s = await this.#loaded();
    return { lastTick: s.lastTick ?? null, counters: await readCounters(this.#store), paused: s.pause !== undefined, snapshots: await storedNewestSnapshots(this.#store) };
  }

  async state(): Promise<CoordinatorState> {
    const s = await this.#loaded();
    return {
      override: s.override ?? null,
      pause: s.pause ?? null,
      bootBlock: s.bootBlock ?? null,
      bootBackoff: s.bootBackoff ?? null,
      lastTick: s.lastTick ?? null,
      parking: await parkingLedger(this.#store),
      signals: s.signals,
      flavorMarks: await readFlavorMarks(this.#store),
      refresh: s.refresh === undefined ? null : { ...refreshView(s.refresh), ...(s.lastTick?.refresh?.progress === undefined || s.refresh.completedAt !== undefined ? {} : { progress: s.lastTick.refresh.progress }) },
      refreshRequest: s.refreshRequest ?? null,
    };
  }

  /** What the signal handlers need: storage, the live signals in memory, the rules (given, else the fence's copy). */
  async #signalContext(rules?: GroupRules): Promise<SignalContext> {
    const state = await this.#loaded();
    const fence = await this.#fence.get();
    const known = rules ?? fence?.envelope?.rules;
    return {
      env: this.env,
      store: this.#store,
      signals: this.#signalStore,
      state,
      rules: known === undefined ? null : { rules: known },
      counted: state.lastTick?.counted ?? 0,
      limiter: this.#limiter,
    };
  }

  /** POST /v1/groups/{name}/receivers: a new receiver; its secret is answered once. */
  createReceiver(group: string, rules: GroupRules, input: ReceiverCreate, author: string, at: string): Promise<CreateAnswer> {
    return this.#signalSerial.run(async () => createReceiver(await this.#signalContext(rules), group, input, author, at));
  }

  /** The group's receivers, without their secrets. */
  async receivers(): Promise<ReceiverView[]> {
    return (await this.#signalStore.receivers()).map(viewOf);
  }

  /** Revokes a receiver (null: there was none with this id); its live signals end. */
  revokeReceiver(group: string, id: string, author: string, at: string): Promise<ReceiverView | null> {
    return this.#signalSerial.run(async () => revokeReceiver(await this.#signalContext(), group, id, author, at));
  }

  /** POST /v1/signals/{id}: authenticates and applies one signal (the next reconcile acts on it). */
  signal(group: string, request: SignalRequest): Promise<SignalAnswer> {
    return this.#signalSerial.run(async () => {
      // A deleted group's receivers are gone with it: the same 404 as any unknown receiver.
      const fence = await this.#fence.get();
      if (fence !== null && fence.envelope === null) return UNKNOWN_RECEIVER;
      return acceptSignal(await this.#signalContext(), group, request);
    });
  }

  /**
   * The operator's "retry boots": lifts the boot block (a rejected boot) and ends the backoff, so the next
   * reconcile boots again. Answers what it cleared; nothing when booting was not stopped (the API's 409).
   */
  retryBoots(author: string, at: string): Promise<RetryBootsAnswer> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      const fence = await this.#fence.get();
      const revision = fence?.revision ?? Number.NEGATIVE_INFINITY;
      const block = state.bootBlock !== undefined && (state.bootBlock.revision === undefined || state.bootBlock.revision >= revision) ? state.bootBlock : undefined;
      // Any backoff that made boots wait counts, whether or not its wait is over: retrying also resets the count
      // (and the wall clock here is not the tick's `now`, so "still waiting" is not decided from it).
      const backoff = state.bootBackoff !== undefined && backoffDelayMs(state.bootBackoff.failures) > 0 ? state.bootBackoff : undefined;
      if (block === undefined && backoff === undefined) return { cleared: false, bootBlock: null, bootBackoff: null };
      const what = [block !== undefined ? `the boot block ('${block.reason}')` : [], backoff !== undefined ? `the backoff after ${backoff.failures} failures ('${backoff.cause}')` : []].flat();
      state.bootBlock = undefined;
      state.bootBackoff = undefined;
      await this.#store.setBootBlock(undefined);
      await this.#store.setBootBackoff(undefined);
      this.#store.appendActivity([{ at, kind: "boot-unblocked", author, reason: `boots retried by ${author}: cleared ${what.join(" and ")}` }]);
      return { cleared: true, bootBlock: block ?? null, bootBackoff: backoff ?? null };
    });
  }

  /** POST /v1/groups/{name}/refresh: the next reconcile pins the image its name resolves to then and starts. */
  requestRefresh(request: RefreshRequest): Promise<RefreshRequest> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      state.refreshRequest = request;
      await this.#store.setRefreshRequest(request);
      this.#store.appendActivity([{ at: request.at, kind: "refresh-requested", author: request.author, reason: `rolling refresh requested by ${request.author}${request.ignoreWindow ? " (ignoring the windows)" : ""}: the next tick starts it` }]);
      return request;
    });
  }

  /**
   * DELETE /v1/groups/{name}/refresh: drops a waiting request and halts an open refresh (halted is final
   * for that target: new servers not yet ready are rolled back by the next tick, ready ones stay).
   */
  cancelRefresh(author: string, at: string): Promise<{ cancelled: boolean }> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      const open = state.refresh !== undefined && state.refresh.completedAt === undefined && state.refresh.halted === undefined;
      const waiting = state.refreshRequest !== undefined;
      if (!open && !waiting) return { cancelled: false };
      if (waiting) {
        state.refreshRequest = undefined;
        await this.#store.setRefreshRequest(undefined);
      }
      if (open && state.refresh !== undefined) {
        state.refresh = { ...state.refresh, halted: { reason: `cancelled by ${author}`, at } };
        await this.#store.setRefresh(state.refresh);
      }
      this.#store.appendActivity([{ at, kind: "refresh-cancelled", author, reason: `rolling refresh cancelled by ${author}${open ? "" : " (it had not started)"}` }]);
      return { cancelled: true };
    });
  }

  /** `group` (the object's own name, which it cannot read itself) lets it notify at once; without it the next reconcile does. */
  setOverride(override: Override, group?: string): Promise<Override> {
    return this.#exclusive(async () => this.#notifyControl(group, override.createdAt, await controls.setOverride(await this.#loaded(), this.#store, override)));
  }

  clearOverride(author: string, at: string, group?: string): Promise<Override | null> {
    return this.#exclusive(async () => this.#notifyControl(group, at, await controls.clearOverride(await this.#loaded(), this.#store, author, at)));
  }

  pause(pause: PauseState, group?: string): Promise<PauseState> {
    return this.#exclusive(async () => this.#notifyControl(group, pause.at, await controls.pause(await this.#loaded(), this.#store, pause)));
  }

  resume(author: string, at: string, group?: string): Promise<boolean> {
    return this.#exclusive(async () => this.#notifyControl(group, at, await controls.resume(await this.#loaded(), this.#store, author, at)));
  }

  /** Queues the control's notification at once (coordinator-notify.ts `followControls`), then answers `result`. */
  async #notifyControl<T>(group: string | undefined, at: string, result: T): Promise<T> {
    if (group === undefined) return result;
    const state = await this.#loaded();
    const rules = (await this.#fence.get())?.envelope?.rules;
    await followControls(this.env, this.#store, group, new Date(at), state, rules);
    return result;
  }

  async activity(limit: number, only?: "changes"): Promise<ActivityEntry[]> {
    return this.#store.readActivity(limit, only);
  }

  /** Appends entries to the activity log (other features, e.g. snapshots, record here too). */
  async record(entries: ActivityEntry[]): Promise<void> {
    this.#store.appendActivity(entries);
  }

  /**
   * The fence, from the rules registry: a new revision of this group's rules (a copy is kept). Not queued,
   * so a rules change never waits for a running reconcile; the next reconcile acts on it.
   */
  async adopt(update: FollowUpdate): Promise<FollowAnswer> {
    const known = await this.#fence.get();
    const decision = adoptDecision(known, update);
    if ("answer" in decision) return decision.answer;
    if ("retire" in decision) {
      await this.#retireNow(update.name, update.revision, update.author, update.at, []);
      return { accepted: true, revision: update.revision };
    }
    const parsed = envelopeSchema("group").safeParse(update.envelope);
    if (!parsed.success) throw new Error(`the rules of revision ${update.revision} do not parse`);
    await this.#fence.set({ revision: update.revision, envelope: parsed.data });
    const reason = rulesChangedReason("group", known, update, parsed.data.etag);
    this.#store.appendActivity([{ at: update.at, kind: "rules-changed", author: update.author, reason }]);
    return { accepted: true, revision: update.revision };
  }

  /**
   * The registry asks to delete the group at `revision`. Serialised with reconciles: decided after any
   * running one, from a fresh listing; refused (changing nothing) while members exist unless forced.
   * Once accepted, no later reconcile acts (the fence says deleted) and the activity log keeps a tombstone.
   */
  retire(input: { name: string; revision: number; force: boolean; author: string; at: string }, gateway: CloudPort): Promise<GuardAnswer> {
    const cloud = resilientPort(gateway);
    return this.#exclusive(async () => {
      const already = retireAnswer(await this.#fence.get(), input.revision);
      if (already !== undefined) return already.ok ? { ok: true, details: { serversLeftBehind: [] } } : already;
      const listing = await cloud.listServers();
      let servers: ServerRef[] = [];
      if (listing.ok) {
        servers = listing.value.filter((s) => isMember(s, input.name)).map((s) => ({ id: s.id, name: s.name, status: s.status }));
      } else if (!input.force) {
        const message = `cannot list the group's servers: ${listing.error.message}`;
        return { ok: false, refusal: { code: "cloud_unavailable", message, details: { category: listing.error.category } } };
      }
      if (servers.length > 0 && !input.force) {
        const message = `group '${input.name}' still has ${servers.length} server(s): scale it to 0 first, or delete with force=true (servers are left running)`;
        return { ok: false, refusal: { code: "conflict", message, details: { servers } } };
      }
      await this.#retireNow(input.name, input.revision, input.author, input.at, servers);
      return { ok: true, details: { serversLeftBehind: servers } };
    });
  }

  /**
   * A rules change that would strand servers novascale did not boot (power -> elastic, park -> delete) is
   * refused unless it adopts them (coordinator-adoption.ts). Serialised with reconciles, from a fresh listing.
   */
  checkModeChange(input: ModeChangeInput, gateway: CloudPort): Promise<GuardAnswer> {
    const cloud = resilientPort(gateway);
    return this.#exclusive(() => checkModeChange(this.#store, input, cloud));
  }

  /** Forgets the group's runtime state, fences it as deleted and writes the tombstone line (history stays). */
  async #retireNow(name: string, revision: number, author: string, at: string, left: readonly ServerRef[]): Promise<void> {
    await this.#store.clearRuntime();
    this.#state = undefined;
    this.#store.clearHistory(); // the chart goes with the group; the activity log (below) stays
    this.#history.reset();
    await this.#fence.set({ revision, envelope: null });
    const behind = left.length > 0 ? `; ${left.length} server(s) left running, no longer managed: ${left.map((s) => s.id).join(", ")}` : "";
    this.#store.appendActivity([{ at, kind: "group-deleted", author, reason: `group '${name}' deleted (revision ${revision})${behind}` }]);
  }
}

/** The Durable Object of a group, by name. */
export function coordinatorStub(env: Env, group: string): DurableObjectStub<GroupCoordinator> {
  const namespace = env.GROUPS as unknown as DurableObjectNamespace<GroupCoordinator>;
  return namespace.get(namespace.idFromName(group));
}
