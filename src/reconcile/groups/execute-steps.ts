// Executing one reconcile's boot and delete steps against the cloud (bounded fan-out, multi-create halving on quota).
import { BOOT_INTENT_KEY, GROUP_KEY, bootIntentMarker } from "../../core/model/membership.ts";
import { tickClockTime } from "../../core/scaling/lost-boots.ts";
import type { QuotaHeadroom, Step } from "../../core/model/types.ts";
import type { BootSpec, ResolvedFlavor, ResolvedImage } from "../../openstack/cloud.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import type { StepResult, StoredGroup } from "../shared/service.ts";

/** Deletes run at most this many at a time: fast enough for a scale-in, gentle on Nova's API. */
export const DELETE_CONCURRENCY = 4;

/** What executing a step needs from the reconcile (a ReconcileInput is one). */
export interface StepContext {
  group: StoredGroup;
  now: Date;
  cloud: CloudPort;
  /** A short unique id for this reconcile's boots (server names and the boot intent marker). */
  bootId: string;
}

/** What booting needs, resolved once per reconcile: image, flavor and quota headroom. */
export interface BootPlanContext {
  image: ResolvedImage;
  flavor: ResolvedFlavor;
  quota: QuotaHeadroom | undefined;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(runners);
  return results;
}

function bootSpec(input: StepContext, boot: BootPlanContext, count: number, attempt: number): BootSpec {
  const { rules, name } = input.group;
  // Distinct per request, so a multi-create's -1, -2 suffixes never collide across retries.
  const id = attempt === 0 ? input.bootId : `${input.bootId}${attempt}`;
  const spec: BootSpec = {
    name: `${rules.namePrefix ?? name}-${id}`,
    imageId: boot.image.id,
    flavorId: boot.flavor.id,
    metadata: { ...rules.metadata, [GROUP_KEY]: name, [BOOT_INTENT_KEY]: bootIntentMarker(input.bootId, input.now) },
    networks: rules.networks,
    count,
  };
  if (rules.keyName !== undefined) spec.keyName = rules.keyName;
  if (rules.userData !== undefined) spec.userData = rules.userData;
  if (rules.securityGroups !== undefined) spec.securityGroups = rules.securityGroups;
  if (rules.availabilityZone !== undefined) spec.availabilityZone = rules.availabilityZone;
  return spec;
}

/**
 * One boot step as few requests as possible: all N in one multi-create; when Nova says the quota
 * is exceeded (nothing was created), halve and go on, so what fits still boots.
 * Never retried after a lost answer (transient): the request may have created servers.
 */
export async function executeBoot(
  input: StepContext,
  step: Extract<Step, { kind: "boot" }>,
  boot: BootPlanContext,
): Promise<{ results: StepResult[]; quotaHit: boolean }> {
  const results: StepResult[] = [];
  let remaining = step.count;
  let chunk = step.count;
  let attempt = 0;
  let quotaHit = false;
  while (remaining > 0) {
    const count = Math.min(chunk, remaining);
    const answer = await input.cloud.boot(bootSpec(input, boot, count, attempt));
    attempt += 1;
    const part: Step = { ...step, count };
    if (answer.ok) {
      results.push({ step: part, outcome: "done", serverIds: answer.value.serverIds });
      remaining -= count;
      continue;
    }
    const error = answer.error;
    if (error.category === "quota") {
      quotaHit = true;
      if (count > 1) {
        chunk = Math.floor(count / 2);
        continue;
      }
    }
    // Never sent (the tick's budget): nothing can exist; anything else transient may have booted.
    const outcome = error.notSent === true ? "skipped" : error.category === "transient" ? "unknown" : "failed";
    const result: StepResult = { step: { ...step, count: remaining }, outcome, error };
    // A lost answer holds boots from when the request went out, on the tick's clock (see core/scaling/lost-boots.ts).
    if (outcome === "unknown") result.sentAt = tickClockTime(input.now, answer.sentAfterMs ?? 0).toISOString();
    results.push(result);
    break;
  }
  return { results, quotaHit };
}

export async function executeDelete(input: Pick<StepContext, "cloud">, step: Extract<Step, { kind: "delete" }>): Promise<StepResult> {
  const answer = await input.cloud.deleteServer(step.serverId);
  if (answer.ok) return { step, outcome: "done" };
  // Already gone is what we wanted.
  if (answer.error.category === "notFound") return { step, outcome: "done" };
  return { step, outcome: answer.error.notSent === true ? "skipped" : "failed", error: answer.error };
}
