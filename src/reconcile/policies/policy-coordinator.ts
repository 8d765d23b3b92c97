// PolicyCoordinator: the Durable Object of one snapshot policy (idFromName(policy)). It serialises runs and deletes,
// follows the rules registry (revision fence) and keeps the policy's operator pause, last run and activity log.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../config/env.ts";
import type { PauseState, PolicyRunRecord } from "../../core/records.ts";
import { stillSettled } from "../../core/snapshots/policy-run.ts";
import type { SnapshotPolicyRules } from "../../core/model/rules.ts";
import { PolicyStore } from "../../store/policy-coordinator.ts";
import type { NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import { envelopeSchema } from "../../store/rules.ts";
import * as controls from "../groups/coordinator-controls.ts";
import { registryGuardRefresh } from "../rules/current-guard.ts";
import { adoptDecision, FenceCell, retireAnswer, rulesChangedReason } from "../rules/fence.ts";
import { resilientPort, type CloudPort } from "../gateway/gateway.ts";
import { runPolicy, type PolicyRunRequest } from "./policy-run.ts";
import type { FollowAnswer, FollowUpdate, GuardAnswer } from "../rules/registry-engine.ts";
import { Serial } from "../shared/serial.ts";
import type { ActivityEntry } from "../shared/service.ts";

export type { PolicyRunRequest, StoredPolicy } from "./policy-run.ts";

export interface PolicyState {
  pause: PauseState | null;
  lastRun: PolicyRunRecord | null;
}

/** Two records say the same thing (a steady run is not written again). */
function fingerprint(r: PolicyRunRecord): string {
  const { at: _at, lastSeenAt: _seen, trigger: _t, author: _a, ...rest } = r;
  return JSON.stringify(rest);
}

export class PolicyCoordinator extends DurableObject<Env> {
  readonly #store: PolicyStore;
  /** Runs, deletes and pause/resume, one at a time: two runs never send createImage for the same server and firing. */
  readonly #serial = new Serial();
  readonly #fence: FenceCell<SnapshotPolicyRules>;
  #state: { pause: PauseState | undefined; lastRun: PolicyRunRecord | undefined } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new PolicyStore(ctx.storage);
    this.#fence = new FenceCell({
      read: () => this.#store.getFence(),
      write: (fence) => this.#store.setFence(fence),
      recreated: async () => {
        await this.#store.clearRuntime();
        this.#state = undefined;
      },
    });
  }

  async #loaded() {
    if (this.#state === undefined) {
      const [pause, lastRun] = await Promise.all([this.#store.getPause(), this.#store.getLastRun()]);
      this.#state = { pause, lastRun };
    }
    return this.#state;
  }

  /** Runs the policy (cron tick or manual), after any running one; never on rules older than the newest known. */
  run(request: PolicyRunRequest, gateway: CloudPort): Promise<PolicyRunRecord> {
    const cloud = resilientPort(gateway);
    return this.#serial.run(async () => {
      const fenced = await this.#fence.apply(request.policy);
      if ("deleted" in fenced) {
        const message = `snapshot policy '${request.policy.name}' was deleted (revision ${fenced.deleted}) after these rules (revision ${request.policy.revision}) were read: not run`;
        const error = { operation: "run policy", category: "config" as const, message };
        return { at: request.now, trigger: request.trigger, author: request.author, rulesEtag: request.policy.etag, rulesRevision: request.policy.revision, status: null, steps: [], notices: [], errors: [error] };
      }
      const state = await this.#loaded();
      const policy = fenced.entry;
      const paused = state.pause !== undefined;
      const handed = request.listing;
      const wasSettled = await this.#store.getSettled();
      if (state.lastRun !== undefined && handed !== undefined && "servers" in handed) {
        const current = { rules: policy.rules, revision: policy.revision, paused, servers: handed.servers, now: new Date(request.now) };
        if (stillSettled(wasSettled, current)) {
          state.lastRun.lastSeenAt = request.now; // nothing to do until the next firing: no cloud call
          return state.lastRun;
        }
      }
      const { record, activity, settled, newest } = await runPolicy(this.#store, { ...request, policy }, cloud, paused, registryGuardRefresh(this.env));
      if (JSON.stringify(settled) !== JSON.stringify(wasSettled)) await this.#store.setSettled(settled);
      if (newest !== undefined && JSON.stringify(newest) !== JSON.stringify(await this.#store.getNewest())) await this.#store.setNewest(newest);
      if (fenced.notice !== undefined) record.notices.unshift(fenced.notice);
      this.#store.appendActivity(activity);
      const previous = state.lastRun;
      if (previous !== undefined && fingerprint(previous) === fingerprint(record)) {
        previous.lastSeenAt = record.at; // steady: nothing written
        return previous;
      }
      if (record.errors.length > 0 && activity.length === 0) {
        this.#store.appendActivity(record.errors.map((error): ActivityEntry => ({ at: record.at, kind: "error", author: request.author, reason: error.message, error })));
      }
      state.lastRun = record;
      await this.#store.setLastRun(record);
      return record;
    });
  }

  async state(): Promise<PolicyState> {
    const s = await this.#loaded();
    return { pause: s.pause ?? null, lastRun: s.lastRun ?? null };
  }

  pause(pause: PauseState): Promise<PauseState> {
    return this.#serial.run(async () => controls.pause(await this.#loaded(), this.#store, pause));
  }

  resume(author: string, at: string): Promise<boolean> {
    return this.#serial.run(async () => controls.resume(await this.#loaded(), this.#store, author, at));
  }

  /** What GET /metrics reads: each selected server's newest snapshot of this policy (storage only, no cloud call). */
  async newestSnapshots(): Promise<NewestSnapshot[]> {
    return this.#store.getNewest();
  }

  async activity(limit: number, only?: "changes"): Promise<ActivityEntry[]> {
    return this.#store.readActivity(limit, only);
  }

  /** The fence, from the rules registry (not queued: a rules change never waits for a running run; the next run acts on it). */
  async adopt(update: FollowUpdate): Promise<FollowAnswer> {
    const known = await this.#fence.get();
    const decision = adoptDecision(known, update);
    if ("answer" in decision) return decision.answer;
    if ("retire" in decision) {
      await this.#retireNow(update.name, update.revision, update.author, update.at);
      return { accepted: true, revision: update.revision };
    }
    const parsed = envelopeSchema("snapshotPolicy").safeParse(update.envelope);
    if (!parsed.success) throw new Error(`the rules of revision ${update.revision} do not parse`);
    await this.#fence.set({ revision: update.revision, envelope: parsed.data });
    this.#store.appendActivity([{ at: update.at, kind: "rules-changed", author: update.author, reason: rulesChangedReason("snapshot policy", known, update, parsed.data.etag) }]);
    return { accepted: true, revision: update.revision };
  }

  /** The registry deletes the policy at `revision`: after any running run; no run acts afterwards. Its snapshots stay. */
  retire(input: { name: string; revision: number; author: string; at: string }): Promise<GuardAnswer> {
    return this.#serial.run(async () => {
      const already = retireAnswer(await this.#fence.get(), input.revision);
      if (already !== undefined) return already;
      await this.#retireNow(input.name, input.revision, input.author, input.at);
      return { ok: true };
    });
  }

  async #retireNow(name: string, revision: number, author: string, at: string): Promise<void> {
    await this.#store.clearRuntime();
    this.#state = undefined;
    await this.#fence.set({ revision, envelope: null });
    this.#store.appendActivity([{ at, kind: "policy-deleted", author, reason: `snapshot policy '${name}' deleted (revision ${revision}); its snapshots stay in Glance` }]);
  }
}

/** The Durable Object of a snapshot policy, by name. */
export function policyStub(env: Env, policy: string): DurableObjectStub<PolicyCoordinator> {
  const namespace = env.POLICIES as unknown as DurableObjectNamespace<PolicyCoordinator>;
  return namespace.get(namespace.idFromName(policy));
}
