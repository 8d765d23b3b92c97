// The dry run's account of boots that will not start: gathers what core/scaling/no-boot-reasons.ts needs from the plan, the state and the gateway's memo.
import { chooseFlavor, flavorPreferences } from "../../core/scaling/flavors.ts";
import { noBootReasons, type NoBootReason } from "../../core/scaling/no-boot-reasons.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import type { ReconcileOutput, RuntimeState } from "./pipeline.ts";
import type { StoredGroup, TickRecord } from "../shared/service.ts";

/** A last tick's deferral older than this is not repeated: the budget of a later tick may have served the group. */
const DEFERRAL_FRESH_MS = 3 * 60_000;

/**
 * Quota numbers are read again only when quota cut boots: the dry run already read /limits and the flavor
 * through this gateway, which remembers both (no new cloud call).
 */
export async function previewNoBootReasons(input: {
  group: StoredGroup;
  now: Date;
  output: ReconcileOutput;
  state: Pick<RuntimeState, "pause">;
  lastTick: TickRecord | undefined;
  cloud: CloudPort;
}): Promise<NoBootReason[]> {
  const { group, now, output } = input;
  const record = output.record;
  const { rules } = group;
  let limits;
  let flavor;
  // The flavor the dry run chose (a fallback while the preferred one is marked), else the rules' first.
  const flavorRef = chooseFlavor(flavorPreferences(rules.flavor), output.flavorMarks, now)?.ref;
  if (record.notices.some((n) => n.code === "capacity-limited")) {
    const [l, f] = await Promise.all([input.cloud.absoluteLimits(), flavorRef === undefined ? undefined : input.cloud.resolveFlavor(flavorRef)]);
    if (l.ok) limits = l.value;
    if (f?.ok) flavor = { name: f.value.name, vcpus: f.value.vcpus, ramMB: f.value.ramMB };
  }
  const last = input.lastTick;
  const deferred = last?.deferred !== undefined && Math.abs(now.getTime() - Date.parse(last.at)) <= DEFERRAL_FRESH_MS ? last.deferred : undefined;
  return noBootReasons({
    now,
    desired: record.desired,
    counted: record.counted,
    steps: record.steps,
    notices: record.notices,
    max: rules.max,
    maxBootsPerTick: rules.limits.maxBootsPerTick,
    pause: input.state.pause ?? null,
    bootBlock: output.bootBlock !== undefined && output.bootBlock.etag === group.etag ? output.bootBlock : null,
    bootBackoff: output.bootBackoff ?? null,
    limits,
    flavor,
    deferred: deferred ?? null,
  });
}
