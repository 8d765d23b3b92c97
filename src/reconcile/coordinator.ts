// GroupCoordinator: the Durable Object of one group (idFromName(group)). It serialises reconciles and holds
// the group's runtime state: override, operator pause, boot block, last tick, the activity log and the history.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config/env.ts";
import type { Override } from "../config/group.ts";
import type { HistoryPoint } from "../core/history.ts";
import { LOST_BOOT_SETTLE_MS, settleLostBoots } from "../core/lost-boots.ts";
import { ManualSnapshotLogSchema, type ManualRequest } from "../core/manual-snapshots.ts";
import { bootIntentMarker, isMember } from "../core/membership.ts";
import { parkedMembers } from "../core/park-plan.ts";
import { ParkingLedgerSchema, ResumeRecordsSchema, resumeTimes, updateLedger, updateResumes, type ParkedSpan, type ResumeRecord } from "../core/parking.ts";
import { RetentionGuardSchema, type RetentionGuard } from "../core/retention.ts";
import { SnapshotAttemptsSchema, type SnapshotAttempts } from "../core/snapshots.ts";
import type { Notice, ObservedServer } from "../core/types.ts";
import { CoordinatorStore, type LostBoot, type RulesFence } from "../store/coordinator.ts";
import { envelopeSchema } from "../store/rules.ts";
import { HistoryRecorder } from "./history.ts";
import { resilientPort, type CloudPort } from "./gateway.ts";
import { reconcileGroup, recordFingerprint, toPreview, type Listing, type RuntimeState } from "./pipeline.ts";
import type { FollowAnswer, FollowUpdate, GuardAnswer } from "./registry-engine.ts";
import type { ActivityEntry, BootBlock, PauseState, PlanPreview, ServerRef, StoredGroup, TickRecord } from "./service.ts";
import { listSnapshots, runSnapshotTick, takeSnapshotNow, type SnapshotAnswer, type SnapshotListing, type TakeSnapshotResult } from "./snapshots.ts";

/** The storage slot the snapshot policy keeps its attempts in. */
const SNAPSHOT_SLOT = "snapshots";
/** The storage slot parking keeps its ledger of parked spans in (for server-hours parked). */
const PARKING_SLOT = "parking";
/** The storage slot of the resumes novascale sent and that are not settled yet (see core/parking.ts). */
const RESUMES_SLOT = "resumes";
/** The storage slot remembering recent manual snapshots (Idempotency-Key answers, repeats). */
const MANUAL_SLOT = "manual-snapshots";
/** The last cron tick's retention guard: GET snapshots and the plan preview show what it holds back. */
const GUARD_SLOT = "retention-guard";

/**
 * A listing handed over by the tick is stale when it was taken before this group's last action
 * finished (plus this margin for clock differences between the Worker and the Durable Object):
 * it may not show the servers that action booted, so the group lists again before acting.
 */
export const LISTING_SKEW_MS = 1_000;

/** At most this many lost boots are remembered (a cloud that loses every answer must not grow the state). */
const LOST_BOOTS_KEPT = 20;

export interface ReconcileRequest {
  group: StoredGroup;
  /** ISO-8601: the tick's scheduledTime, or the API request's clock. */
  now: string;
  trigger: "cron" | "manual";
  author: string;
  /** The tick's listing of this group's members, and when it was started (wall-clock ms). */
  listing?: { members: ObservedServer[]; listedAt: number } | { error: TickRecord["errors"][number]; listedAt: number };
  /** The X-OpenStack-Request-Id the gateway sends with every call (one per tick), recorded with the outcome. */
  tickRequestId?: string;
  /** The cron tick's view of what else needs images (every group's image, every server's): snapshot retention's guard. */
  imageGuard?: RetentionGuard;
}

export interface CoordinatorState {
  override: Override | null;
  pause: PauseState | null;
  bootBlock: BootBlock | null;
  lastTick: TickRecord | null;
  /** Spans of time the group's servers spent parked (last 30 days). */
  parking: ParkedSpan[];
}

/** The answer to a reconcile whose rules were deleted meanwhile: nothing done, nothing stored. */
function deletedGroupRecord(request: ReconcileRequest, deletedAt: number): TickRecord {
  const message = `group '${request.group.name}' was deleted (revision ${deletedAt}) after these rules (revision ${request.group.revision}) were read: not reconciled`;
  return {
    at: request.now,
    trigger: request.trigger,
    author: request.author,
    rulesEtag: request.group.etag,
    rulesRevision: request.group.revision,
    desired: { value: 0, reason: "the group was deleted", source: "paused" },
    actualByStatus: {},
    counted: 0,
    listing: "failed",
    steps: [],
    results: [],
    notices: [{ level: "error", code: "group-deleted", message }],
    errors: [{ operation: "reconcile", category: "config", message }],
    health: "error",
  };
}

/** A boot block is lifted only by newer rules (a stale copy of older rules never lifts it). */
function liftsBootBlock(block: BootBlock, group: StoredGroup): boolean {
  return block.revision !== undefined ? group.revision > block.revision : block.etag !== group.etag;
}

function storedFrom(name: string, fence: RulesFence & { envelope: NonNullable<RulesFence["envelope"]> }): StoredGroup {
  const { rules, revision, etag, updatedAt, updatedBy } = fence.envelope;
  return { name, rules, revision, etag, updatedAt, updatedBy };
}

/** What the group's rules are for a reconcile: the newest this object knows, or "deleted". */
type Fenced = { group: StoredGroup; notice?: Notice } | { deleted: number };

function shortId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("").slice(0, 7);
}

export class GroupCoordinator extends DurableObject<Env> {
  readonly #store: CoordinatorStore;
  /** Tail of the in-DO queue: outbound calls let other requests interleave, so reconciles chain here. */
  #queue: Promise<unknown> = Promise.resolve();
  #state: (RuntimeState & { lastTick: TickRecord | undefined; lastActionAt: number; lostBoots: LostBoot[] }) | undefined;
  /** The rules fence, read once from storage (undefined: not loaded; null: nothing known yet). */
  #fence: RulesFence | null | undefined;
  readonly #history: HistoryRecorder;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new CoordinatorStore(ctx.storage);
    this.#history = new HistoryRecorder(this.#store);
  }

  /** Runs `work` after every earlier exclusive call has finished (whether it succeeded or not). */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #loaded() {
    if (this.#state === undefined) {
      const [override, pause, bootBlock, lastTick, lastActionAt, lostBoots] = await Promise.all([
        this.#store.getOverride(),
        this.#store.getPause(),
        this.#store.getBootBlock(),
        this.#store.getLastTick(),
        this.#store.getLastActionAt(),
        this.#store.getLostBoots(),
      ]);
      this.#state = { override, pause, bootBlock, lastTick, lastActionAt, lostBoots };
    }
    return this.#state;
  }

  /** Drops an override that has run out, once (with an activity line). */
  async #expireOverride(now: Date): Promise<void> {
    const state = await this.#loaded();
    if (state.override !== undefined && Date.parse(state.override.until) <= now.getTime()) {
      const ended = state.override;
      state.override = undefined;
      await this.#store.setOverride(undefined);
      this.#store.appendActivity([
        { at: ended.until, kind: "override-expired", author: ended.author, reason: `override to ${ended.desired} ended (${ended.reason})` },
      ]);
    }
  }

  async #listingFor(request: ReconcileRequest, cloud: CloudPort, lastActionAt: number): Promise<Listing> {
    const handed = request.listing;
    if (handed !== undefined && "error" in handed) return { ok: false, error: handed.error };
    if (handed !== undefined && handed.listedAt > lastActionAt + LISTING_SKEW_MS) return { ok: true, members: handed.members };
    const fresh = await cloud.listServers();
    if (!fresh.ok) return fresh;
    return { ok: true, members: fresh.value.filter((s) => isMember(s, request.group.name)) };
  }

  /**
   * Settles lost boots against the listing (core/lost-boots.ts): those whose servers show up (by their
   * boot intent marker) are reported as booted, those with nothing to show after LOST_BOOT_SETTLE_MS as
   * failed. Returns the activity lines; the rest stay pending and hold the group's boots.
   */
  #settleLostBoots(members: readonly ObservedServer[], now: Date, author: string): ActivityEntry[] {
    const state = this.#state;
    if (state === undefined || state.lostBoots.length === 0) return [];
    const { pending, settled } = settleLostBoots(state.lostBoots, members, now);
    state.lostBoots = pending;
    const at = now.toISOString();
    return settled.map(({ boot, found }): ActivityEntry => {
      const what = `boot ${boot.intent} of ${boot.at}, whose answer was lost`;
      if (found.length === 0) return { at, kind: "boot-failed", author, reason: `${what}, created nothing (no server after ${LOST_BOOT_SETTLE_MS / 60_000} min): boots resume`, count: boot.count };
      return {
        at,
        kind: "boot",
        author,
        reason: `${what}: ${found.length} of ${boot.count} server(s) found on the listing (counted, not booted again)`,
        count: found.length,
        serverIds: found.map((s) => s.id),
      };
    });
  }

  /** Reconciles the group: never two at once; records the outcome; returns the tick record. */
  reconcile(request: ReconcileRequest, gateway: CloudPort): Promise<TickRecord> {
    const cloud = resilientPort(gateway);
    return this.#exclusive(async () => {
      const fenced = await this.#fenced(request.group);
      // A tick that read the rules before they were deleted: acting now would boot servers nobody manages.
      if ("deleted" in fenced) return deletedGroupRecord(request, fenced.deleted);
      request = { ...request, group: fenced.group };
      const now = new Date(request.now);
      await this.#expireOverride(now);
      const state = await this.#loaded();
      if (state.bootBlock !== undefined && liftsBootBlock(state.bootBlock, request.group)) {
        // The rules changed since Nova rejected a boot: try again with the new ones.
        this.#store.appendActivity([
          { at: request.now, kind: "boot-unblocked", author: request.author, reason: `booting resumes: the rules changed since '${state.bootBlock.reason}'` },
        ]);
        state.bootBlock = undefined;
        await this.#store.setBootBlock(undefined);
      }
      const listing = await this.#listingFor(request, cloud, state.lastActionAt);
      const resumes = await this.#resumes();
      const bootId = shortId();
      const settled = listing.ok ? this.#settleLostBoots(listing.members, now, request.author) : [];
      const output = await reconcileGroup({
        group: request.group,
        now,
        trigger: request.trigger,
        author: request.author,
        state: { override: state.override, pause: state.pause, bootBlock: state.bootBlock, pendingBoots: state.lostBoots },
        listing,
        cloud,
        bootId,
        dryRun: false,
        resuming: resumeTimes(resumes),
        ...(request.tickRequestId === undefined ? {} : { tickRequestId: request.tickRequestId }),
      });

      if (output.acted) {
        state.lastActionAt = Date.now();
        await this.#store.setLastActionAt(state.lastActionAt);
      }
      const lost = output.record.results.filter((r) => r.step.kind === "boot" && r.outcome === "unknown");
      for (const r of lost) if (r.step.kind === "boot") state.lostBoots.push({ intent: bootIntentMarker(bootId, now), count: r.step.count, at: request.now });
      if (settled.length > 0 || lost.length > 0) {
        state.lostBoots = state.lostBoots.slice(-LOST_BOOTS_KEPT);
        await this.#store.setLostBoots(state.lostBoots);
      }
      if (output.bootBlock !== state.bootBlock) {
        state.bootBlock = output.bootBlock;
        await this.#store.setBootBlock(output.bootBlock);
      }
      if (listing.ok) await this.#followParking(request.group, listing.members, now, resumes, output.record.results);
      const activity = [...settled, ...output.activity];
      const record = output.record;
      if (fenced.notice !== undefined) record.notices.unshift(fenced.notice);
      if (listing.ok && request.group.rules.snapshots !== undefined) {
        // Snapshots ride on the same tick and the same listing, inside the same lock; a server this tick
        // just deleted is no source (createImage would answer 409 and burn an attempt).
        const deleted = new Set(record.steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
        const snap = await this.#snapshotTick(request, cloud, listing.members.filter((s) => !deleted.has(s.id)), now);
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
      // Desired and actual for the dashboard's chart: a row only when they changed.
      this.#history.record(record);
      const previous = state.lastTick;
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
      this.#store.appendActivity(activity);
      return record;
    });
  }

  async #parkingLedger(): Promise<ParkedSpan[]> {
    const parsed = ParkingLedgerSchema.safeParse(await this.#store.getSlot(PARKING_SLOT));
    return parsed.success ? parsed.data : [];
  }

  async #resumes(): Promise<ResumeRecord[]> {
    const parsed = ResumeRecordsSchema.safeParse(await this.#store.getSlot(RESUMES_SLOT));
    return parsed.success ? parsed.data : [];
  }

  /**
   * After a reconcile: records the resumes it sent (or may have: a lost answer) and settles older ones,
   * then opens and closes parked spans from what the listing showed. Each slot is written only on change.
   */
  async #followParking(group: StoredGroup, members: readonly ObservedServer[], now: Date, resumes: ResumeRecord[], results: TickRecord["results"]): Promise<void> {
    const sent = results.flatMap((r) => (r.step.kind === "resume" && (r.outcome === "done" || r.outcome === "unknown") ? [r.step.serverId] : []));
    const nextResumes = resumes.length === 0 && sent.length === 0 ? resumes : updateResumes(resumes, members, sent, now);
    if (JSON.stringify(nextResumes) !== JSON.stringify(resumes)) await this.#store.setSlot(RESUMES_SLOT, nextResumes);
    const parked = parkedMembers({ name: group.name, rules: group.rules }, members, now, resumeTimes(resumes)).map((c) => c.server);
    const ledger = await this.#parkingLedger();
    if (ledger.length === 0 && parked.length === 0) return;
    const next = updateLedger(ledger, parked, now);
    if (JSON.stringify(next) !== JSON.stringify(ledger)) await this.#store.setSlot(PARKING_SLOT, next);
  }

  /** The last cron tick's guard, for showing what retention holds back (deletions use only a fresh one). */
  async #rememberedGuard(): Promise<RetentionGuard | undefined> {
    const parsed = RetentionGuardSchema.safeParse(await this.#store.getSlot(GUARD_SLOT));
    return parsed.success ? parsed.data : undefined;
  }

  /** History points from `since` (epoch ms) on, preceded by the one in force at `since` (for GET .../history). */
  async history(since: number): Promise<HistoryPoint[]> {
    return this.#history.since(since);
  }

  async #snapshotAttempts(): Promise<SnapshotAttempts | undefined> {
    const parsed = SnapshotAttemptsSchema.safeParse(await this.#store.getSlot(SNAPSHOT_SLOT));
    return parsed.success ? parsed.data : undefined;
  }

  async #snapshotTick(request: ReconcileRequest, cloud: CloudPort, members: ObservedServer[], now: Date) {
    const policy = request.group.rules.snapshots;
    if (policy === undefined) throw new Error("no snapshot policy");
    const attempts = await this.#snapshotAttempts();
    // A paused group takes no action at all, snapshots included (they show as held back).
    const paused = request.group.rules.paused || (await this.#loaded()).pause !== undefined;
    const result = await runSnapshotTick({ cloud, group: request.group.name, policy, members, attempts, now, author: request.author, paused, guard: request.imageGuard });
    if (request.imageGuard !== undefined && JSON.stringify(request.imageGuard) !== JSON.stringify(await this.#store.getSlot(GUARD_SLOT))) {
      await this.#store.setSlot(GUARD_SLOT, request.imageGuard);
    }
    if (JSON.stringify(result.attempts) !== JSON.stringify(attempts)) await this.#store.setSlot(SNAPSHOT_SLOT, result.attempts);
    return result;
  }

  /** The group's snapshots, live (for GET /v1/groups/{name}/snapshots); changes nothing. */
  async snapshots(group: StoredGroup, now: string, cloud: CloudPort): Promise<SnapshotAnswer<SnapshotListing>> {
    return listSnapshots({
      cloud: resilientPort(cloud),
      group: group.name,
      policy: group.rules.snapshots,
      attempts: await this.#snapshotAttempts(),
      now: new Date(now),
      guard: await this.#rememberedGuard(),
    });
  }

  /** Takes a snapshot now, serialised with ticks and with itself, so a repeat sees the first (POST /v1/groups/{name}/snapshots). */
  takeSnapshot(group: StoredGroup, input: { author: string; now: string } & ManualRequest, cloud: CloudPort): Promise<TakeSnapshotResult> {
    return this.#exclusive(async () => {
      const stored = ManualSnapshotLogSchema.safeParse(await this.#store.getSlot(MANUAL_SLOT));
      const log = stored.success ? stored.data : [];
      const taken = await takeSnapshotNow({
        cloud: resilientPort(cloud),
        group: group.name,
        policy: group.rules.snapshots,
        author: input.author,
        now: new Date(input.now),
        request: { serverId: input.serverId, force: input.force, idempotencyKey: input.idempotencyKey },
        log,
      });
      if (taken.log.length !== log.length || taken.log.at(-1) !== log.at(-1)) await this.#store.setSlot(MANUAL_SLOT, taken.log);
      this.#store.appendActivity(taken.activity);
      return taken;
    });
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
        pendingBoots: listing.ok ? settleLostBoots(state.lostBoots, listing.members, new Date(request.now)).pending : state.lostBoots,
      },
      listing,
      cloud,
      bootId: "preview",
      dryRun: true,
      resuming: resumeTimes(await this.#resumes()),
    });
    const preview = toPreview(output);
    const policy = request.group.rules.snapshots;
    if (listing.ok && policy !== undefined) {
      // The snapshot half of the same tick, planned only (no createImage/deleteImage, no state written).
      const deleted = new Set(preview.steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
      const members = listing.members.filter((s) => !deleted.has(s.id));
      const snap = await runSnapshotTick({ cloud, group: request.group.name, policy, members, attempts: await this.#snapshotAttempts(), now: new Date(request.now), dryRun: true, guard: request.imageGuard ?? (await this.#rememberedGuard()) });
      preview.steps.push(...snap.steps);
      preview.notices.push(...snap.notices);
      preview.errors.push(...snap.errors);
    }
    return preview;
  }

  async state(): Promise<CoordinatorState> {
    const s = await this.#loaded();
    return { override: s.override ?? null, pause: s.pause ?? null, bootBlock: s.bootBlock ?? null, lastTick: s.lastTick ?? null, parking: await this.#parkingLedger() };
  }

  setOverride(override: Override): Promise<Override> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      state.override = override;
      await this.#store.setOverride(override);
      this.#store.appendActivity([
        { at: override.createdAt, kind: "override-set", author: override.author, reason: `hold at ${override.desired} until ${override.until}: ${override.reason}` },
      ]);
      return override;
    });
  }

  clearOverride(author: string, at: string): Promise<Override | null> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      const previous = state.override;
      if (previous === undefined) return null;
      state.override = undefined;
      await this.#store.setOverride(undefined);
      this.#store.appendActivity([{ at, kind: "override-cleared", author, reason: `override to ${previous.desired} (${previous.reason}) removed` }]);
      return previous;
    });
  }

  pause(pause: PauseState): Promise<PauseState> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      if (state.pause !== undefined) return state.pause;
      state.pause = pause;
      await this.#store.setPause(pause);
      this.#store.appendActivity([{ at: pause.at, kind: "pause", author: pause.by, reason: pause.reason ?? "paused by an operator" }]);
      return pause;
    });
  }

  resume(author: string, at: string): Promise<boolean> {
    return this.#exclusive(async () => {
      const state = await this.#loaded();
      if (state.pause === undefined) return false;
      state.pause = undefined;
      await this.#store.setPause(undefined);
      this.#store.appendActivity([{ at, kind: "resume", author, reason: "resumed by an operator" }]);
      return true;
    });
  }

  async activity(limit: number): Promise<ActivityEntry[]> {
    return this.#store.readActivity(Math.max(1, Math.min(500, Math.floor(limit))));
  }

  /** Appends entries to the activity log (other features, e.g. snapshots, record here too). */
  async record(entries: ActivityEntry[]): Promise<void> {
    this.#store.appendActivity(entries);
  }

  /** A small JSON slot for other features' state (snapshots keep their attempt counts here). */
  async getSlot(name: string): Promise<unknown> {
    return this.#store.getSlot(name);
  }
  async setSlot(name: string, value: unknown): Promise<void> {
    await this.#store.setSlot(name, value);
  }

  async #loadFence(): Promise<RulesFence | null> {
    if (this.#fence === undefined) this.#fence = (await this.#store.getRulesFence()) ?? null;
    return this.#fence;
  }

  async #setFence(fence: RulesFence): Promise<void> {
    if (this.#fence?.envelope === null && fence.envelope !== null) {
      // Re-created after a delete: whatever reached the old group after its delete (an override racing it) goes.
      await this.#store.clearRuntime();
      this.#state = undefined;
    }
    this.#fence = fence;
    await this.#store.setRulesFence(fence);
  }

  /**
   * The fence applied to the rules a reconcile was handed: newer than anything known -> adopted (the
   * registry's message may still be on its way); older -> the newest known copy is used instead (a stale
   * KV read never undoes a newer change); deleted at a newer revision -> nothing may act.
   */
  async #fenced(offered: StoredGroup): Promise<Fenced> {
    const known = await this.#loadFence();
    if (known === null || offered.revision > known.revision) {
      const { rules, revision, etag, updatedAt, updatedBy } = offered;
      await this.#setFence({ revision, envelope: { rules, revision, etag, updatedAt, updatedBy } });
      return { group: offered };
    }
    if (known.envelope === null) return { deleted: known.revision };
    if (offered.revision === known.revision) return { group: offered };
    const message = `this reconcile was handed revision ${offered.revision} of the rules (a stale read); it acts on revision ${known.revision}, the newest accepted`;
    return { group: storedFrom(offered.name, { ...known, envelope: known.envelope }), notice: { level: "info", code: "rules-newer", message } };
  }

  /**
   * The fence, from the rules registry: a new revision of this group's rules (a copy is kept). Not queued,
   * so a rules change never waits for a running reconcile; the next reconcile acts on it.
   */
  async adopt(update: FollowUpdate): Promise<FollowAnswer> {
    const known = await this.#loadFence();
    if (known !== null && update.revision <= known.revision) {
      // The same message again is fine; a different one at a revision already taken is not (the registry renumbers).
      const same = update.revision === known.revision && (known.envelope?.etag ?? null) === (update.envelope?.etag ?? null);
      return { accepted: same, revision: known.revision };
    }
    if (update.envelope === null) {
      await this.#retireNow(update.name, update.revision, update.author, update.at, []);
      return { accepted: true, revision: update.revision };
    }
    const parsed = envelopeSchema("group").safeParse(update.envelope);
    if (!parsed.success) throw new Error(`the rules of revision ${update.revision} do not parse`);
    await this.#setFence({ revision: update.revision, envelope: parsed.data });
    const reason =
      known === null || known.envelope === null
        ? `group ${known === null ? "created" : "re-created"} (revision ${update.revision}, ${parsed.data.etag})`
        : `rules changed from ${update.previousEtag ?? known.envelope.etag} to ${parsed.data.etag} (revision ${update.revision})`;
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
      const known = await this.#loadFence();
      if (known !== null && known.revision >= input.revision) {
        if (known.revision === input.revision && known.envelope === null) return { ok: true, details: { serversLeftBehind: [] } };
        return { ok: false, behind: known.revision };
      }
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

  /** Forgets the group's runtime state, fences it as deleted and writes the tombstone line (history stays). */
  async #retireNow(name: string, revision: number, author: string, at: string, left: readonly ServerRef[]): Promise<void> {
    await this.#store.clearRuntime();
    this.#state = undefined;
    this.#store.clearHistory(); // the chart goes with the group; the activity log (below) stays
    this.#history.reset();
    await this.#setFence({ revision, envelope: null });
    const behind = left.length > 0 ? `; ${left.length} server(s) left running, no longer managed: ${left.map((s) => s.id).join(", ")}` : "";
    this.#store.appendActivity([{ at, kind: "group-deleted", author, reason: `group '${name}' deleted (revision ${revision})${behind}` }]);
  }
}

/** The Durable Object of a group, by name. */
export function coordinatorStub(env: Env, group: string): DurableObjectStub<GroupCoordinator> {
  const namespace = env.GROUPS as unknown as DurableObjectNamespace<GroupCoordinator>;
  return namespace.get(namespace.idFromName(group));
}
