// Nova's fault for members listed in ERROR without one (a real Zed lists cell0's NoValidHost servers so), read before planning.
import type { ObservedServer } from "../../core/model/types.ts";
import type { CloudPort } from "../gateway/gateway.ts";

/**
 * At most this many fault reads per group and tick: a hypervisor that lost twenty servers at once costs
 * five GETs, not twenty, and the others keep the listing's "Nova gave no fault".
 */
export const FAULT_READS_PER_TICK = 5;

/**
 * The members with Nova's fault filled in for those listed in ERROR without one, which the planner would
 * otherwise delete with no reason from Nova. Real Nova's `/servers/detail` looks faults up in the API's
 * default cell only, so a server the scheduler could not place ("No valid host was found", buried in
 * cell0) is listed without its fault; GET /servers/{id} has it. Only servers not yet `counted` by the boot
 * backoff are read (a protected ERROR server that stays is read once, not every tick), lowest id first.
 * A read that fails changes nothing: the server is planned as listed.
 */
export async function withFaults(
  members: readonly ObservedServer[],
  counted: readonly string[],
  cloud: Pick<CloudPort, "serverFault">,
  limit = FAULT_READS_PER_TICK,
): Promise<ObservedServer[]> {
  const known = new Set(counted);
  const wanted = members
    .filter((s) => s.status === "ERROR" && s.fault === undefined && !known.has(s.id))
    .map((s) => s.id)
    .sort()
    .slice(0, limit);
  if (wanted.length === 0) return [...members];
  const read = await Promise.all(wanted.map(async (id) => [id, await cloud.serverFault(id)] as const));
  const faults = new Map<string, NonNullable<ObservedServer["fault"]>>();
  for (const [id, outcome] of read) if (outcome.ok && outcome.value != null) faults.set(id, outcome.value);
  return members.map((s) => {
    const fault = faults.get(s.id);
    return fault === undefined ? s : { ...s, fault };
  });
}
