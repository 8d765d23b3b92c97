// Mode changes versus servers novascale did not boot: which rules changes need the operator to adopt them first.
import { isBooted, isMember } from "../model/membership.ts";
import { parks, type GroupRules } from "../model/rules.ts";
import type { ObservedServer } from "../model/types.ts";

/*
 * A server novascale did not boot (no boot intent marker: an operator tagged it by hand, typically into a
 * power group) is never deleted (destiny.ts, plan.ts, park-plan.ts). A rules change that moves the group
 * from rules that never delete to rules that do would leave such servers stranded: an elastic group would
 * report an operator's stopped server as broken forever (and boot a replacement for it), and a pool cap of
 * 0 would strand its parked ones. So such a change is refused (409, naming the servers) unless the request
 * adopts them explicitly (PUT/PATCH ?adopt=true): then the group records their ids and treats them as its
 * own, deletes included. The changes that need it:
 *   - mode power -> elastic;
 *   - scaleIn.action shelve/stop -> delete in an elastic group (parked servers beyond pool.max 0 go).
 */

/** Why the change from `before` to `after` needs the group's non-booted servers adopted, or undefined when it does not. */
export function modeChangeRisk(before: Pick<GroupRules, "mode" | "scaleIn">, after: Pick<GroupRules, "mode" | "scaleIn">): string | undefined {
  if (before.mode === "power" && after.mode === "elastic") return "mode power -> elastic (an elastic group deletes broken and surplus servers)";
  if (before.mode === "elastic" && after.mode === "elastic" && parks(before) && !parks(after)) {
    return `scaleIn.action ${before.scaleIn.action ?? "delete"} -> delete (parked servers beyond the pool are deleted)`;
  }
  return undefined;
}

/** The group's members novascale neither booted nor was given (what a risky change would strand), by id. */
export function unbootedMembers(servers: readonly ObservedServer[], group: string, adopted: ReadonlySet<string>): ObservedServer[] {
  return servers.filter((s) => isMember(s, group) && !isBooted(s, adopted));
}
