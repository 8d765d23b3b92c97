// The tick's second half: every snapshot policy, after the groups, on the tick's one listing and retention guard.
import type { Env } from "../../config/env.ts";
import type { ErrorInfo, PolicyRunRecord } from "../../core/records.ts";
import type { RetentionGuard } from "../../core/snapshots/retention.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { ReadRulesResult, RulesOf } from "../../store/rules.ts";
import type { DeferredEntry } from "../../store/tick-state.ts";
import type { TickBudget } from "../gateway/budget.ts";
import { storedFrom } from "../rules/fence.ts";
import type { CloudGateway } from "../gateway/gateway.ts";
import { policyStub, type PolicyRunRequest, type StoredPolicy } from "../policies/policy-coordinator.ts";
import { deferredOf, serveInTurn } from "./tick-queue.ts";
import { logLine } from "../shared/log.ts";

export interface PolicyTickSummary {
  policies: number;
  /** Policies whose stored rules could not be read (reported, skipped). */
  unreadable: string[];
  records: Array<{ policy: string; record?: PolicyRunRecord; failure?: string }>;
  /** Policies whose work (some or all) waits for the next tick, in the order it will serve them. */
  deferred: DeferredEntry[];
}

/** The readable policies of the index; the others are named in `unreadable`. */
export function readablePolicies(read: ReadonlyArray<ReadRulesResult<RulesOf<"snapshotPolicy">>>): { policies: StoredPolicy[]; unreadable: string[] } {
  const policies: StoredPolicy[] = [];
  const unreadable: string[] = [];
  for (const r of read) {
    if (r.ok) policies.push(storedFrom(r.name, r.envelope));
    else {
      unreadable.push(r.name);
      logLine("error", "skipping a snapshot policy whose rules are unreadable", { policy: r.name, problem: r.problem });
    }
  }
  return { policies, unreadable };
}

/** Runs every policy in its Durable Object (a few at once), the last tick's deferred ones first. */
export async function runPolicies(input: {
  env: Env;
  now: Date;
  policies: readonly StoredPolicy[];
  unreadable: string[];
  gateway: CloudGateway;
  budget: TickBudget;
  listing: { ok: true; value: ObservedServer[] } | { ok: false; error: ErrorInfo };
  guard: RetentionGuard | undefined;
  deferredFirst: readonly string[];
  concurrency: number;
}): Promise<PolicyTickSummary> {
  const { env, now, gateway } = input;
  const summary: PolicyTickSummary = { policies: input.policies.length + input.unreadable.length, unreadable: input.unreadable, records: [], deferred: [] };
  const { order, unreached } = await serveInTurn(input.policies, { concurrency: input.concurrency, budget: input.budget, deferredFirst: input.deferredFirst, needs: 1 }, async (policy) => {
    const request: PolicyRunRequest = {
      policy,
      now: now.toISOString(),
      trigger: "cron",
      author: "cron",
      listing: input.listing.ok ? { servers: input.listing.value } : { error: input.listing.error },
      ...(input.guard === undefined ? {} : { guard: input.guard }),
    };
    try {
      const record = (await policyStub(env, policy.name).run(request, gateway)) as PolicyRunRecord;
      summary.records.push({ policy: policy.name, record });
    } catch (error) {
      const failure = error instanceof Error ? error.message : String(error);
      logLine("error", "snapshot policy run failed", { policy: policy.name, error: failure });
      summary.records.push({ policy: policy.name, failure });
    }
  });
  summary.deferred = deferredOf(order, summary.records.map((r) => ({ name: r.policy, deferred: r.record?.deferred })), unreached, "policy");
  return summary;
}
