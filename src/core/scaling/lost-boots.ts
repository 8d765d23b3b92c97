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

/*
 * Every hold runs on the tick's clock: the tick's `now` (the cron's scheduledTime, or the request's time
 * for "apply now") is when the tick began, and a request sent later in it was sent at `now` plus the time
 * elapsed in the tick (measured by the TickBudget's clock, handed in as data). Never the Worker's wall
 * clock: tests and late cron invocations run ticks at chosen times, and mixing the two clocks held boots
 * for ever or not at all. The elapsed time counts in whole seconds: sub-second noise (the round trips
 * before the boot) must not push a boot sent at the start of a tick past the tick two minutes later.
 */

/** How long a lost boot holds the group's boots, from when its request was sent (on the tick's clock, see tickClockTime). */
export const LOST_BOOT_SETTLE_MS = 2 * 60_000;

/** A boot whose answer was lost: its intent marker, how many servers it asked for, its tick's time (ISO). */
export interface LostBoot {
  intent: string;
  count: number;
  at: string;
  /** When (ISO, the tick's clock) its request was sent, which may be well into the tick; records kept before this field fall back to `at`. */
  sentAt?: string;
}

/** The time on the tick's clock `elapsedMs` into a tick that began at `now`: whole seconds only; a bad or negative reading counts as 0. */
export function tickClockTime(now: Date, elapsedMs: number): Date {
  const seconds = Number.isFinite(elapsedMs) && elapsedMs > 0 ? Math.floor(elapsedMs / 1000) : 0;
  return new Date(now.getTime() + seconds * 1000);
}

/** When a lost boot was sent (ms since the epoch; NaN if unreadable): `sentAt`, or its tick's `at` for older records. */
export function lostBootSentAt(boot: LostBoot): number {
  return Date.parse(boot.sentAt ?? boot.at);
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
    const sent = lostBootSentAt(boot);
    const expired = Number.isNaN(sent) || now.getTime() - sent >= LOST_BOOT_SETTLE_MS;
    if (found.length >= boot.count || expired) settled.push({ boot, found });
    else pending.push(boot);
  }
  return { pending, settled };
}

/** The notice that says why boots wait, or undefined when nothing is pending. */
export function bootHoldNotice(pending: readonly LostBoot[]): Notice | undefined {
  if (pending.length === 0) return undefined;
  const latest = pending.reduce((a, b) => (lostBootSentAt(a) >= lostBootSentAt(b) ? a : b));
  const sent = new Date(lostBootSentAt(latest)).toISOString();
  const until = new Date(lostBootSentAt(latest) + LOST_BOOT_SETTLE_MS).toISOString();
  const servers = pending.reduce((n, b) => n + b.count, 0);
  return {
    level: "warning",
    code: "boot-held",
    message: `boots wait: ${pending.length} boot(s) of ${servers} server(s) got no answer (the last sent ${sent}); their servers may still appear. Held until they are listed, or until ${until}, when a boot that created nothing is recorded boot-failed`,
  };
}

/** Drops a plan's boots while lost boots are pending, with the notice that says so; other steps pass. */
export function holdBoots(steps: readonly Step[], pending: readonly LostBoot[]): { steps: Step[]; notice?: Notice } {
  const notice = bootHoldNotice(pending);
  if (notice === undefined || !steps.some((s) => s.kind === "boot")) return { steps: [...steps] };
  return { steps: steps.filter((s) => s.kind !== "boot"), notice };
}
