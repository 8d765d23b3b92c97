// Build age on the Worker's clock: boots are timed by the intent marker novascale wrote, not by Nova's `created`.
import { bootSentAt } from "../model/membership.ts";
import type { Notice, ObservedServer } from "../model/types.ts";

/*
 * Nova stamps `created` with its own clock; `now` is the Worker's. Comparing the two blindly turns a
 * skew into an age: with Nova 35 minutes behind and a 30-minute build timeout, every fresh BUILD server
 * "has been building" for 35 minutes, is deleted as stuck and booted again, forever. So:
 *   - a server novascale booted carries the time it sent the boot (the intent marker, Worker clock):
 *     its build age is now - that time, one clock on both sides;
 *   - for a server without such a marker (booted by an older version), `created` is shifted by the
 *     cloud's offset as measured on the group's marked servers (created - sent), when there are any;
 *   - a measured offset past SKEW_NOTICE_MS is reported (notice `clock-skew`).
 */

/** An offset this large between Nova's clock and the Worker's is reported. */
export const SKEW_NOTICE_MS = 5 * 60_000;

/** Nova's clock minus the Worker's, as measured on the group's servers (median), and on how many. */
export interface CloudOffset {
  offsetMs: number;
  samples: number;
}

/** Measures the offset from servers whose intent marker says when the boot was sent; undefined without any. */
export function estimateCloudOffset(members: readonly ObservedServer[]): CloudOffset | undefined {
  const offsets: number[] = [];
  for (const s of members) {
    const sent = bootSentAt(s);
    const created = Date.parse(s.created);
    if (sent !== undefined && !Number.isNaN(created)) offsets.push(created - sent);
  }
  if (offsets.length === 0) return undefined;
  offsets.sort((a, b) => a - b);
  const mid = Math.floor(offsets.length / 2);
  const median = offsets.length % 2 === 1 ? (offsets[mid] as number) : ((offsets[mid - 1] as number) + (offsets[mid] as number)) / 2;
  return { offsetMs: median, samples: offsets.length };
}

/** Minutes the server has been building, on the Worker's clock; undefined when nothing tells (never "stuck" then). */
export function buildAgeMinutes(server: ObservedServer, now: Date, cloudOffsetMs = 0): number | undefined {
  const sent = bootSentAt(server);
  if (sent !== undefined) return (now.getTime() - sent) / 60_000;
  const created = Date.parse(server.created);
  return Number.isNaN(created) ? undefined : (now.getTime() + cloudOffsetMs - created) / 60_000;
}

/** The notice for a measured offset worth reporting, if it is. */
export function skewNotice(offset: CloudOffset | undefined): Notice | undefined {
  if (offset === undefined || Math.abs(offset.offsetMs) < SKEW_NOTICE_MS) return undefined;
  const minutes = Math.round(Math.abs(offset.offsetMs) / 60_000);
  const side = offset.offsetMs < 0 ? "behind" : "ahead of";
  return {
    level: "warning",
    code: "clock-skew",
    message: `the cloud's clock is about ${minutes} min ${side} this Worker's (measured on ${offset.samples} server(s) novascale booted): build ages are measured from when novascale sent each boot, not from Nova's 'created'`,
  };
}
