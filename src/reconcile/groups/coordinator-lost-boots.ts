// Lost boots in a group's Durable Object: settling them against a listing, and remembering new ones.
import { LOST_BOOT_SETTLE_MS, settleLostBoots } from "../../core/scaling/lost-boots.ts";
import { bootIntentMarker } from "../../core/model/membership.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { LostBoot } from "../../store/coordinator.ts";
import type { ActivityEntry, StepResult } from "../shared/service.ts";

/** At most this many lost boots are remembered (a cloud that loses every answer must not grow the state). */
const LOST_BOOTS_KEPT = 20;

/**
 * Settles lost boots against the listing (core/lost-boots.ts): those whose servers show up (by their
 * boot intent marker) are reported as booted, those with nothing to show after LOST_BOOT_SETTLE_MS as
 * failed. Returns the boots still pending (they hold the group's boots) and the activity lines.
 */
export function settleLost(lostBoots: LostBoot[], members: readonly ObservedServer[], now: Date, author: string): { pending: LostBoot[]; activity: ActivityEntry[] } {
  if (lostBoots.length === 0) return { pending: lostBoots, activity: [] };
  const { pending, settled } = settleLostBoots(lostBoots, members, now);
  const at = now.toISOString();
  const activity = settled.map(({ boot, found }): ActivityEntry => {
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
  return { pending, activity };
}

/** The boots of this reconcile whose answer was lost, as lost boots to settle on later listings. */
export function newlyLost(results: readonly StepResult[], bootId: string, now: Date, at: string): LostBoot[] {
  const lost: LostBoot[] = [];
  for (const r of results) {
    if (r.step.kind !== "boot" || r.outcome !== "unknown") continue;
    lost.push({ intent: bootIntentMarker(bootId, now), count: r.step.count, at, ...(r.sentAt === undefined ? {} : { sentAt: r.sentAt }) });
  }
  return lost;
}

/** The lost boots to keep: the newest LOST_BOOTS_KEPT. */
export function keptLostBoots(lostBoots: LostBoot[]): LostBoot[] {
  return lostBoots.slice(-LOST_BOOTS_KEPT);
}
