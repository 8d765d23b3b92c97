// The one table that maps a Nova server state to what the planner does with it (its "destiny").
import type { GroupRules } from "./rules.ts";
import { buildAgeMinutes } from "./clock.ts";
import type { Destiny, ObservedServer } from "./types.ts";

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
 * ERROR                       replace   no       delete it, boot a replacement in the same plan
 * SHUTOFF                     replace   no       with replaceShutoff (default): delete and replace
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

/** A server's destiny and, for anything but plain counting, why. */
export interface Classified {
  server: ObservedServer;
  destiny: Destiny;
  why: string;
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

/** What the planner does with this server now: the table above, plus SHUTOFF policy and the build timeout. */
export function destinyOf(server: ObservedServer, rules: Pick<GroupRules, "replaceShutoff" | "limits">, now: Date, cloudOffsetMs = 0): Classified {
  const status = server.status.toUpperCase();
  if ((server.taskState ?? "").toLowerCase() === "deleting") return { server, destiny: "gone", why: `${status} (deleting)` };
  const destiny = Object.hasOwn(STATUS_DESTINY, status) ? STATUS_DESTINY[status] : undefined;
  if (destiny === undefined) return { server, destiny: "unknown", why: `unknown status ${status}` };
  const task = taskInProgress(server);
  if (status === "SHUTOFF" && !rules.replaceShutoff) return { server, destiny: "count", why: `SHUTOFF (replaceShutoff is off${task ? `; task ${task} under way` : ""})` };
  if (destiny === "build") {
    const age = buildAgeMinutes(server, now, cloudOffsetMs);
    const timeout = rules.limits.buildTimeoutMinutes;
    // A server whose creation time cannot be read is never declared stuck: we would rather wait than delete.
    if (age !== undefined && age > timeout) {
      return { server, destiny: "replace", why: `stuck in BUILD for ${Math.floor(age)} min (build timeout ${timeout} min)` };
    }
  }
  return { server, destiny, why: task !== undefined && destiny === "count" ? `${status}, task ${task} under way` : status };
}
