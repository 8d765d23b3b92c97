// The tick's snapshot policies: one policy's turn on the tick's one listing and retention guard, and which policies are due.
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
import { latestCronFiring } from "../../core/schedule/schedule.ts";

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
      console.error(`novascale tick: skipping snapshot policy '${r.name}': ${r.problem}`);
    }
  }
  return { policies, unreadable };
}

/** What a policy's turn needs from the tick: the listing (less what groups deleted this tick) and the retention guard. */
export interface PolicyTurnInput {
  env: Env;
  now: Date;
  gateway: CloudGateway;
  listing: { ok: true; value: ObservedServer[] } | { ok: false; error: ErrorInfo };
  guard: RetentionGuard | undefined;
}

/** Runs one policy in its Durable Object; a failed call is reported, not thrown. */
export async function runPolicyTurn(input: PolicyTurnInput, policy: StoredPolicy): Promise<{ policy: string; record?: PolicyRunRecord; failure?: string }> {
  const request: PolicyRunRequest = {
    policy,
    now: input.now.toISOString(),
    trigger: "cron",
    author: "cron",
    listing: input.listing.ok ? { servers: input.listing.value } : { error: input.listing.error },
    ...(input.guard === undefined ? {} : { guard: input.guard }),
  };
  try {
    const record = (await policyStub(input.env, policy.name).run(request, input.gateway)) as PolicyRunRecord;
    return { policy: policy.name, record };
  } catch (error) {
    const failure = error instanceof Error ? error.message : String(error);
    console.error(`novascale tick: snapshot policy '${policy.name}' failed: ${failure}`);
    return { policy: policy.name, failure };
  }
}

/**
 * Policies whose latest firing is inside its grace period: the tick holds their turn's requests while groups run (core/scaling/turns.ts),
 * so a busy group cannot make the night's snapshot miss it. A settled one costs no cloud request (its object answers from its mark).
 */
export function duePolicies(policies: readonly StoredPolicy[], now: Date): Set<string> {
  const due = new Set<string>();
  for (const p of policies) {
    if (p.rules.paused) continue;
    const firing = latestCronFiring(p.rules.cron, p.rules.timezone, now);
    if (firing !== undefined && now.getTime() <= firing.getTime() + p.rules.graceHours * 3_600_000) due.add(p.name);
  }
  return due;
}
