// Flavor fallback's part in a reconcile (core/scaling/flavors.ts decides): marks from the listing before planning, the choice, marks from quota refusals after booting.
import { chooseFlavor, flavorLabel, flavorPreferences, markFlavors, quotaCause, refusalsOf, type FlavorChoice, type FlavorIds, type FlavorMark, type FlavorRefusal } from "../../core/scaling/flavors.ts";
import { capacityCause } from "../../core/scaling/flavors.ts";
import type { GroupRules, ResourceRef } from "../../core/model/rules.ts";
import type { Notice, ObservedServer, QuotaHeadroom, Step } from "../../core/model/types.ts";
import { serversThatFit } from "../../core/scaling/limits.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import type { ActivityEntry, StepResult } from "../shared/service.ts";
import type { Stamp } from "./pipeline-backoff.ts";

/** The flavor this reconcile boots, the marks after the listing was read, and the activity lines of new marks. */
export interface FlavorPlan {
  preferences: ResourceRef[];
  marks: FlavorMark[];
  choice: FlavorChoice | undefined;
  activity: ActivityEntry[];
}

function markLine(mark: FlavorMark, stamp: Stamp): ActivityEntry {
  const minutes = Math.round((Date.parse(mark.until) - Date.parse(mark.at)) / 60_000);
  return { ...stamp, kind: "flavor-unavailable", reason: `${mark.flavor} ${mark.cause}: new boots skip it until ${mark.until} (${minutes} min, strike ${mark.strikes})` };
}

/**
 * Ids of the preferences, only when a listing gives servers' flavors by id (before 2.47) and one of them is
 * an ERROR member with NoValidHost: resolving costs calls, and a 2.47+ listing names the flavor itself.
 */
async function idsIfNeeded(members: readonly ObservedServer[], preferences: readonly ResourceRef[], cloud: Pick<CloudPort, "resolveFlavor">): Promise<FlavorIds> {
  const unnamed = members.some((s) => s.status === "ERROR" && s.flavorName === undefined && s.flavorId !== undefined && capacityCause(s.fault) !== undefined);
  if (!unnamed) return {};
  const ids: Record<string, string> = {};
  await Promise.all(
    preferences.map(async (ref) => {
      const resolved = await cloud.resolveFlavor(ref);
      if (resolved.ok) ids[flavorLabel(ref)] = resolved.value.id;
    }),
  );
  return ids;
}

/**
 * Before planning: ERROR members Nova could not place mark their flavor; then the one choice of this tick.
 * A group with one flavor is left as it always was (no marks, no notices): there is nothing to fall back to.
 */
export async function planFlavor(
  rules: Pick<GroupRules, "flavor">,
  marks: readonly FlavorMark[],
  members: readonly ObservedServer[],
  cloud: Pick<CloudPort, "resolveFlavor">,
  now: Date,
  stamp: Stamp,
): Promise<FlavorPlan> {
  const preferences = flavorPreferences(rules.flavor);
  if (preferences.length <= 1) return { preferences, marks: [...marks], choice: chooseFlavor(preferences, [], now), activity: [] };
  const refusals = refusalsOf(members, preferences, await idsIfNeeded(members, preferences, cloud));
  const marked = markFlavors(marks, refusals, now);
  return { preferences, marks: marked.marks, choice: chooseFlavor(preferences, marked.marks, now), activity: marked.marked.map((m) => markLine(m, stamp)) };
}

/** Boot steps say which flavor they take when it is a fallback (the activity's boot line keeps the reason). */
export function withFlavorReason(steps: readonly Step[], choice: FlavorChoice | undefined, notices: Notice[]): Step[] {
  if (choice === undefined || !choice.fallback || !steps.some((s) => s.kind === "boot")) return [...steps];
  notices.push({ level: "warning", code: "flavor-fallback", message: choice.reason });
  return steps.map((s) => (s.kind === "boot" ? { ...s, reason: `${s.reason}; flavor ${choice.label}: ${choice.reason}` } : s));
}

/**
 * The quota refusal the /limits check made before anything was sent: boots were wanted and not one server
 * of the chosen flavor fits the cores or RAM left. That is the 403 Nova would give, so it marks the flavor
 * as one would (a smaller flavor may fit); the instances limit binds every flavor alike and marks none.
 */
export function quotaRefusalBefore(
  plan: FlavorPlan,
  wantedBoots: boolean,
  boot: { flavor: { vcpus: number; ramMB: number }; quota: QuotaHeadroom | undefined } | undefined,
): FlavorRefusal | undefined {
  if (plan.preferences.length <= 1 || plan.choice === undefined || !wantedBoots || boot?.quota === undefined) return undefined;
  const fit = serversThatFit(boot.quota, boot.flavor);
  if (fit.fits > 0 || (fit.binding !== "cores" && fit.binding !== "ram")) return undefined;
  return { flavor: plan.choice.label, cause: quotaCause(`${fit.binding} left (/limits) take no server of this flavor`) };
}

/**
 * After booting: a boot Nova refused for quota (even one server), or the /limits check's refusal, marks the
 * flavor it took; the next tick chooses again (at most one fallback step per tick).
 */
export function marksAfterBoots(plan: FlavorPlan, results: readonly StepResult[], before: FlavorRefusal | undefined, now: Date, stamp: Stamp): { marks: FlavorMark[]; activity: ActivityEntry[] } {
  if (plan.preferences.length <= 1 || plan.choice === undefined) return { marks: plan.marks, activity: [] };
  const refused = results.find((r) => r.step.kind === "boot" && r.outcome === "failed" && r.error?.category === "quota");
  const refusal: FlavorRefusal | undefined = refused?.error !== undefined ? { flavor: plan.choice.label, cause: quotaCause(refused.error.message) } : before;
  if (refusal === undefined) return { marks: plan.marks, activity: [] };
  const marked = markFlavors(plan.marks, [refusal], now);
  return { marks: marked.marks, activity: marked.marked.map((m) => markLine(m, stamp)) };
}
