// Boots whose answer was lost (timeout, a load balancer's 504): which are settled by a listing, and whether boots must wait.
import { BOOT_INTENT_KEY } from "../model/membership.ts";
import type { Notice, ObservedServer, Step } from "../model/types.ts";

/*
 * A boot whose answer is lost may have created its servers, and a slow cloud may list them only a
 * little later. Booting again on the next tick (or on "apply now") would double them. So while such a
 * boot is unsettled the group boots nothing (deletes go on), until either
 *   - the listing shows all its servers (found by the intent marker they carry): booted, counted; or
 *   - LOST_BOOT_SETTLE_MS have passed since it was sent: what was found is reported as booted, and if
 *     nothing was, the boot is recorded `boot-failed`; boots resume.
 * Nova records a server before it answers the boot, so a server that is not listed two minutes (two
 * cron ticks) after its boot was sent was not created; the hold delays a real scale-out by at most that.
 */

/** How long a lost boot holds the group's boots, from when it was sent (the tick's `now`). */
export const LOST_BOOT_SETTLE_MS = 2 * 60_000;

/** A boot whose answer was lost: its intent marker, how many servers it asked for, when (ISO) it was sent. */
export interface LostBoot {
  intent: string;
  count: number;
  at: string;
}

export interface LostBootOutcome {
  boot: LostBoot;
  /** Servers found carrying its marker (may be fewer than asked, or none: then it failed). */
  found: ObservedServer[];
}

export interface SettledLostBoots {
  /** Still unsettled: the group's boots wait for these. */
  pending: LostBoot[];
  /** Settled now, with what the listing showed of each. */
  settled: LostBootOutcome[];
}

/** Settles lost boots against one listing of the group's members, taken after they were sent. Pure. */
export function settleLostBoots(lost: readonly LostBoot[], members: readonly ObservedServer[], now: Date): SettledLostBoots {
  const pending: LostBoot[] = [];
  const settled: LostBootOutcome[] = [];
  for (const boot of lost) {
    const found = members.filter((s) => s.metadata[BOOT_INTENT_KEY] === boot.intent);
    const sent = Date.parse(boot.at);
    const expired = Number.isNaN(sent) || now.getTime() - sent >= LOST_BOOT_SETTLE_MS;
    if (found.length >= boot.count || expired) settled.push({ boot, found });
    else pending.push(boot);
  }
  return { pending, settled };
}

/** The notice that says why boots wait, or undefined when nothing is pending. */
export function bootHoldNotice(pending: readonly LostBoot[]): Notice | undefined {
  if (pending.length === 0) return undefined;
  const latest = pending.reduce((a, b) => (Date.parse(a.at) >= Date.parse(b.at) ? a : b));
  const until = new Date(Date.parse(latest.at) + LOST_BOOT_SETTLE_MS).toISOString();
  const servers = pending.reduce((n, b) => n + b.count, 0);
  return {
    level: "warning",
    code: "boot-held",
    message: `boots wait: ${pending.length} boot(s) of ${servers} server(s) got no answer (the last sent ${latest.at}); their servers may still appear. Held until they are listed, or until ${until}, when a boot that created nothing is recorded boot-failed`,
  };
}

/** Drops a plan's boots while lost boots are pending, with the notice that says so; other steps pass. */
export function holdBoots(steps: readonly Step[], pending: readonly LostBoot[]): { steps: Step[]; notice?: Notice } {
  const notice = bootHoldNotice(pending);
  if (notice === undefined || !steps.some((s) => s.kind === "boot")) return { steps: [...steps] };
  return { steps: steps.filter((s) => s.kind !== "boot"), notice };
}
