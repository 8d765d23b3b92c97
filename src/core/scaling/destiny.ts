// The one table that maps a Nova server state to what the planner does with it (its "destiny").
import type { GroupRules } from "../model/rules.ts";
import { buildAgeMinutes } from "./clock.ts";
import { isBooted } from "../model/membership.ts";
import { parkMarkOf, type ParkMark } from "./parking.ts";
import type { Destiny, ObservedServer } from "../model/types.ts";

/*
 * Nova status (task_state)    destiny   counts?  planner does
 * --------------------------  --------  -------  ------------------------------------------------------
 * any, task_state "deleting"  gone      no       nothing: it is already on its way out
 * DELETED, SOFT_DELETED       gone      no       nothing
 * ACTIVE                      count     yes      may be a scale-in victim; with a task under way
 *                                                (task_state image_snapshot, image_uploading, ...,
 *                                                rebooting, ...) it is "busy" and goes last (plan.ts)
 * BUILD                       build     yes      nothing; after limits.buildTimeoutMinutes since the
 *                                                boot was sent (clock.ts: the intent marker's time, not
 *                                                Nova's `created`) it becomes "replace" (stuck build)
 * ERROR                       replace   no       delete it, boot a replacement in the same plan; the
 *                                                reason names Nova's fault message when it gave one
 * SHUTOFF                     replace   no       with replaceShutoff (default): delete and replace
 * ERROR / SHUTOFF / stuck     wait      yes      a snapshot under way (task image_*): left alone until it
 *   BUILD, task image_*                            ends, then the row above (deleting it kills the upload)
 *                             count     yes      with replaceShutoff false: counts like ACTIVE
 * REBOOT, HARD_REBOOT         wait      yes      left alone: comes back ACTIVE by itself
 * RESIZE, VERIFY_RESIZE,      wait      yes      left alone: an operator's resize is in progress
 *   REVERT_RESIZE                                  (VERIFY_RESIZE waits for them to confirm)
 * MIGRATING, REBUILD,         wait      yes      left alone: a transition Nova finishes by itself
 *   PASSWORD
 * RESCUE, PAUSED, SUSPENDED,  wait      yes      left alone: a person put it there on purpose and will
 *   SHELVED,                                       bring it back; deleting it would destroy their work.
 *   SHELVED_OFFLOADED                              It still counts, so we do not boot a double for it.
 * UNKNOWN (Nova's own, when   unknown   yes      left alone and reported: the host is unreachable, the
 *   the host is unreachable)                       server may well be running
 * anything else               unknown   yes      left alone and reported (a notice), never guessed at
 *
 *
 * Parking rows (scaleIn.action shelve/stop, power groups). The park mark (metadata novascale:park,
 * written before the park) tells novascale's own parking from anyone else's; the group's record of the
 * resumes it sent (Nova refuses metadata changes on a shelved server, so it cannot go on the server)
 * dates a resume. Both are checked before the rows above; a resume record newer than the mark wins.
 * Mark / status (task_state)  destiny   counts?  planner does
 * --------------------------  --------  -------  ------------------------------------------------------
 * parked: SHUTOFF, SHELVED,   parked    no       resumed first on scale-out (os-start for SHUTOFF,
 *   SHELVED_OFFLOADED                              unshelve for the shelved ones); elastic groups delete
 *                                                  the oldest beyond pool.max
 * parked: powering-off,       parking   no       left alone: on its way to parked
 *   shelving*, shelving_offloading
 * parked: SHUTOFF, SHELVED*   parking   no       left alone: still parked, with another task under way (a
 *   with any other task                            snapshot uploading: image_snapshot, image_uploading, ...)
 * parked: ACTIVE              woken     yes      started by someone else (or a park that did not take):
 *                                                  the first to park again (manualChanges enforce), or left
 *                                                  up until desired changes after the mark (respect)
 * parked: powering-on,        wait      yes      someone else is bringing it back
 *   unshelving
 * resumed: powering-on,       resuming  yes      left alone while coming back; after limits.buildTimeout-
 *   unshelving, spawning                           Minutes since the resume it "did not come back": report
 *                                                  (resume-failed), never deleted
 * resumed: back at rest       parked    no       resume-failed (Nova accepted it but could not place it):
 *   (SHUTOFF/SHELVED*, no task)                    reported, resumed again when needed (after the others);
 *   >= 1 min after the resume                      never deleted and replaced
 * resumed: ERROR              report    no       resume-failed with Nova's fault: left for an operator
 * resumed: ACTIVE             count     yes      an ordinary member again; its park mark is removed
 *                                                  (an "unmark" step)
 * none: powering-off,         wait      yes      left alone: someone else is stopping/starting it
 *   powering-on, shelving*, unshelving
 * none: SHUTOFF, SHELVED*     (rows above) elastic groups: SHUTOFF by replaceShutoff, SHELVED* wait
 *   in a power group          parked    no       manualChanges enforce: someone else stopped it; it is
 *                                                  resumed when desired calls for it
 *                             held      no       manualChanges respect: left alone, never started by
 *                                                  novascale (reported)
 * Power groups never delete: every "replace" above (ERROR, stuck BUILD, did not come back) is "report"
 * there: not counted, left alone, reported. Nor does any group delete a server it did not boot (no boot
 * intent marker, not adopted: an operator tagged it by hand): its "replace" is "report" too, in every mode.
 *
 * Counting "wait" and "unknown" servers errs towards fewer boots: a server that is only briefly away
 * must not cause a double, and an unexpected status is a reason to look, not to act.
 */
const STATUS_DESTINY: Readonly<Record<string, Destiny>> = {
  ACTIVE: "count",
  BUILD: "build",
  ERROR: "replace",
  SHUTOFF: "replace", // by policy: see destinyOf
  REBOOT: "wait",
  HARD_REBOOT: "wait",
  RESIZE: "wait",
  VERIFY_RESIZE: "wait",
  REVERT_RESIZE: "wait",
  MIGRATING: "wait",
  REBUILD: "wait",
  PASSWORD: "wait",
  RESCUE: "wait",
  PAUSED: "wait",
  SUSPENDED: "wait",
  SHELVED: "wait",
  SHELVED_OFFLOADED: "wait",
  DELETED: "gone",
  SOFT_DELETED: "gone",
  UNKNOWN: "unknown",
};

/** The start of the reason of a resume that failed (status, the `resume-failed` notice). */
export const RESUME_FAILED = "resume-failed";
/**
 * A resumed server seen back at rest with no task this long after the resume was sent: the resume ended
 * without taking (Nova sets the task before it answers, so a later listing at rest means it failed).
 */
export const RESUME_SETTLE_MINUTES = 1;

/** A server's destiny and, for anything but plain counting, why. */
export interface Classified {
  server: ObservedServer;
  destiny: Destiny;
  why: string;
}

/** Task states of a server on its way to SHUTOFF or SHELVED(_OFFLOADED). */
const PARKING_TASKS: ReadonlySet<string> = new Set(["powering-off", "shelving", "shelving_image_pending_upload", "shelving_image_uploading", "shelving_offloading"]);
/** Task states of a server on its way back from SHUTOFF or SHELVED(_OFFLOADED) (unshelve schedules and spawns again). */
const RESUMING_TASKS: ReadonlySet<string> = new Set(["powering-on", "unshelving", "scheduling", "spawning", "block_device_mapping", "networking"]);
/** Statuses a parked server rests in. */
export const PARKED_STATUSES: ReadonlySet<string> = new Set(["SHUTOFF", "SHELVED", "SHELVED_OFFLOADED"]);

type DestinyRules = Pick<GroupRules, "replaceShutoff" | "limits"> & Partial<Pick<GroupRules, "mode" | "manualChanges">>;

/** The parking rows of the table (park mark and resume record first), or undefined when the ordinary rows decide. */
function parkingDestiny(server: ObservedServer, status: string, task: string, mark: ParkMark | undefined, resumedAt: Date | undefined, rules: DestinyRules, now: Date): Classified | undefined {
  const resting = PARKED_STATUSES.has(status) && task === "";
  if (resumedAt !== undefined && (mark === undefined || mark.at.getTime() <= resumedAt.getTime())) {
    // novascale resumed it (its record, held by the group: Nova refuses metadata changes on a shelved server).
    if (status === "ACTIVE" && task === "") return { server, destiny: "count", why: `ACTIVE, resumed by novascale at ${resumedAt.toISOString()}` };
    const minutes = (now.getTime() - resumedAt.getTime()) / 60_000;
    const fault = server.fault === undefined ? "" : ` (Nova fault${server.fault.code === undefined ? "" : ` ${server.fault.code}`}: ${server.fault.message})`;
    // A resume Nova accepted but could not carry out (no host: the server is back at rest, or in ERROR) is
    // reported and retried, never deleted: the shelved or stopped server is intact, a replacement would lose it.
    if (status === "ERROR") {
      return { server, destiny: "report", why: `${RESUME_FAILED}: ERROR after novascale resumed it at ${resumedAt.toISOString()}${fault}; left for an operator (reset its state), never deleted` };
    }
    if (resting && minutes >= RESUME_SETTLE_MINUTES) {
      return { server, destiny: "parked", why: `${RESUME_FAILED}: still ${status} ${Math.floor(minutes)} min after novascale resumed it${fault}; resumed again when needed, never deleted` };
    }
    if (resting || RESUMING_TASKS.has(task)) {
      const timeout = rules.limits.buildTimeoutMinutes;
      const state = task === "" ? status : `${status} (${task})`;
      if (minutes > timeout) {
        return { server, destiny: "report", why: `${RESUME_FAILED}: did not come back: ${state} ${Math.floor(minutes)} min after novascale resumed it (build timeout ${timeout} min); left alone, never deleted` };
      }
      return { server, destiny: "resuming", why: `${state}, resumed by novascale at ${resumedAt.toISOString()}` };
    }
    return undefined;
  }
  if (mark !== undefined) {
    const since = mark.at.toISOString();
    if (resting) return { server, destiny: "parked", why: `${status}, parked by novascale at ${since}` };
    if (PARKING_TASKS.has(task)) return { server, destiny: "parking", why: `${status} (${task}), parking since ${since}` };
    if (status === "ACTIVE" && task === "" && mark.unconfirmed) return { server, destiny: "woken", why: `ACTIVE: novascale's park at ${since} was not confirmed by Nova (a 5xx or no answer) and did not take; it is parked again` };
    if (status === "ACTIVE" && task === "") return { server, destiny: "woken", why: `ACTIVE although novascale parked it at ${since} (started by someone else, or the park did not take)` };
    if (RESUMING_TASKS.has(task)) return { server, destiny: "wait", why: `${status} (${task}): someone else is bringing it back` };
    // Parked, with another task under way (a snapshot uploading: image_snapshot, image_uploading, ...): still
    // parked, and left alone until the task ends; never the plain SHUTOFF row, which would delete it as broken.
    if (PARKED_STATUSES.has(status)) return { server, destiny: "parking", why: `${status} (${task}), parked by novascale at ${since}: left alone while the task is under way` };
    return undefined;
  }
  if (PARKING_TASKS.has(task) || task === "powering-on" || task === "unshelving") return { server, destiny: "wait", why: `${status} (${task}) by someone else` };
  if (resting && rules.mode === "power") {
    if (rules.manualChanges === "respect") return { server, destiny: "held", why: `${status} by someone else: left alone (manualChanges respect)` };
    return { server, destiny: "parked", why: `${status} by someone else: started when desired calls for it (manualChanges enforce)` };
  }
  return undefined;
}

/**
 * A task in progress on a server that is otherwise settled (e.g. a snapshot uploading: task_state
 * image_snapshot, image_pending_upload, image_uploading). BUILD always has one (scheduling, spawning),
 * and "deleting" is handled as gone, so neither is busy in this sense.
 */
export function taskInProgress(server: ObservedServer): string | undefined {
  const task = (server.taskState ?? "").trim();
  if (task === "" || task.toLowerCase() === "deleting" || server.status.toUpperCase() === "BUILD") return undefined;
  return task;
}

/**
 * A snapshot of the server is under way (Nova's task_state image_snapshot, image_snapshot_pending,
 * image_pending_upload, image_uploading, image_backup): deleting the server now would kill the upload and
 * lose the snapshot, so no plan deletes it before the task ends (issue 24's combination property).
 */
export function snapshotUnderWay(server: ObservedServer): string | undefined {
  const task = taskInProgress(server);
  return task !== undefined && task.toLowerCase().startsWith("image_") ? task : undefined;
}

/**
 * What the planner does with this server now: the table above, plus SHUTOFF policy and the build timeout.
 * `adopted`: servers the operator handed to the group explicitly (they count as booted by it).
 */
export function destinyOf(server: ObservedServer, rules: DestinyRules, now: Date, cloudOffsetMs = 0, resumedAt?: Date, adopted?: ReadonlySet<string>): Classified {
  const classified = classify(server, rules, now, cloudOffsetMs, resumedAt);
  if (classified.destiny !== "replace") return classified;
  // A broken or stopped server whose snapshot uploads waits for the upload (it counts meanwhile, as any "wait").
  const snapshot = snapshotUnderWay(server);
  if (snapshot !== undefined) return { ...classified, destiny: "wait", why: `${classified.why}; task ${snapshot} under way: not replaced before the snapshot ends` };
  // A power group never deletes: whatever would be replaced is reported instead.
  if (rules.mode === "power") return { ...classified, destiny: "report" };
  // No group deletes a server it did not boot (an operator's, tagged by hand): reported, never replaced by a delete.
  if (!isBooted(server, adopted)) return { ...classified, destiny: "report", why: `${classified.why}; novascale did not boot it (no boot mark, not adopted), so it is never deleted` };
  return classified;
}

function classify(server: ObservedServer, rules: DestinyRules, now: Date, cloudOffsetMs: number, resumedAt: Date | undefined): Classified {
  const status = server.status.toUpperCase();
  const task = (server.taskState ?? "").toLowerCase();
  if (task === "deleting") return { server, destiny: "gone", why: `${status} (deleting)` };
  if (status === "DELETED" || status === "SOFT_DELETED") return { server, destiny: "gone", why: status };
  const parking = parkingDestiny(server, status, task, parkMarkOf(server), resumedAt, rules, now);
  if (parking !== undefined) return parking;
  const destiny = Object.hasOwn(STATUS_DESTINY, status) ? STATUS_DESTINY[status] : undefined;
  if (destiny === undefined) return { server, destiny: "unknown", why: `unknown status ${status}` };
  const busy = taskInProgress(server);
  if (status === "SHUTOFF" && !rules.replaceShutoff) return { server, destiny: "count", why: `SHUTOFF (replaceShutoff is off${busy ? `; task ${busy} under way` : ""})` };
  if (destiny === "build") {
    const age = buildAgeMinutes(server, now, cloudOffsetMs);
    const timeout = rules.limits.buildTimeoutMinutes;
    // A server whose creation time cannot be read is never declared stuck: we would rather wait than delete.
    if (age !== undefined && age > timeout) {
      return { server, destiny: "replace", why: `stuck in BUILD for ${Math.floor(age)} min (build timeout ${timeout} min)` };
    }
  }
  // An ERROR server's fault is Nova's reason: it goes into the delete's reason and the activity log.
  if (status === "ERROR" && server.fault !== undefined) return { server, destiny, why: `ERROR (Nova fault${server.fault.code === undefined ? "" : ` ${server.fault.code}`}: ${server.fault.message})` };
  return { server, destiny, why: busy !== undefined && destiny === "count" ? `${status}, task ${busy} under way` : status };
}
