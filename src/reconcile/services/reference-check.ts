// A rules write's check of what the rules name in the cloud (image, flavors, key pair), through a gateway of its own with a small budget.
import type { Env } from "../../config/env.ts";
import type { GroupRules } from "../../config/group.ts";
import { referenceQueries, referenceWarnings, type ReferenceWarning } from "../../core/model/references.ts";
import { TickBudget } from "../gateway/budget.ts";
import { cloudsOf, openCloud, type CloudFactory } from "../gateway/cloud-factory.ts";
import { placementOf } from "../../config/clouds.ts";
import { CloudGateway } from "../gateway/gateway.ts";

/**
 * Requests one check may send, retries included: token, discovery, the image (a Glance name lookup and
 * one suggestions page), the flavors (one listing, shared by every flavor of a list) and the key pair
 * (a show and one suggestions page) fit with room for a retry or two.
 */
export const REFERENCE_CHECK_REQUESTS = 12;
/** An operator's write never waits longer than this on a slow cloud: past it the write goes ahead with `cloud-unreachable`. */
export const REFERENCE_CHECK_MS = 8_000;

export interface ReferenceCheckOptions {
  cloudFactory?: CloudFactory | undefined;
  /** Default REFERENCE_CHECK_MS. */
  timeoutMs?: number | undefined;
  clock?: () => number;
}

/**
 * One warning per reference that does not resolve (none when all do, or the rules name none). Never
 * throws: a cloud that is down, slow, refuses our credentials or runs out of this check's budget gives
 * `cloud-unreachable` warnings instead, so the write is never blocked on the cloud.
 */
export async function checkReferences(env: Env, rules: GroupRules, options: ReferenceCheckOptions = {}): Promise<ReferenceWarning[]> {
  const queries = referenceQueries(rules);
  if (queries.length === 0) return [];
  const clock = options.clock ?? (() => Date.now());
  const budget = new TickBudget({ subrequests: REFERENCE_CHECK_REQUESTS, deadline: clock() + (options.timeoutMs ?? REFERENCE_CHECK_MS), clock });
  const gateway = new CloudGateway(openCloud(env, options.cloudFactory, budget, placementOf(cloudsOf(env), rules)), budget);
  const answers = await Promise.all(queries.map((query) => gateway.lookUp(query)));
  return referenceWarnings(queries, answers);
}
