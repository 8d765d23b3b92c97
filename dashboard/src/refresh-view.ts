// The group page's Rolling refresh card: phase, pinned image, replaced n of m, new servers booting, failures vs the threshold, the next window, the halt reason.
import { h } from "./dom.ts";
import { fromNow, timeEl } from "./format.ts";
import { hasRefreshRules, refreshSummary } from "./refresh-state.ts";
import type { GroupStatus } from "./types.ts";
import { facts, section } from "./widgets.ts";

/** Null (no card) for a group that has no refresh rules and never had a refresh: nothing to say. */
export function refreshCard(s: GroupStatus, zone: string): HTMLElement | null {
  const withRules = hasRefreshRules(s.rules);
  const refresh = s.refresh ?? null;
  const request = s.refreshRequest ?? null;
  if (!withRules && refresh === null && request === null) return null;
  const sum = refreshSummary(s);
  const rules = (s.rules["refresh"] ?? {}) as { windows?: string[]; timezone?: string };
  const progress = sum.phase === "running" || sum.phase === "halted" ? refresh?.progress : undefined;
  // A waiting request supersedes what is shown below it, so the older refresh's facts are left out.
  const shown = sum.phase === "waiting" ? null : refresh;

  const windowText = (): HTMLElement | null => {
    if (!sum.waitingForWindow) return null;
    const windows = `${(rules.windows ?? []).join(", ")} (${rules.timezone ?? "UTC"})`;
    const next = progress?.nextWindowAt;
    return h(
      "span",
      { "data-field": "refresh-window" },
      `outside the disruption windows ${windows}: nothing is replaced until `,
      next === undefined ? "one opens (none within a week)" : h("span", {}, "the next opens at ", timeEl(next, zone), ` (${fromNow(next)})`),
    );
  };

  return section(
    "Rolling refresh",
    "refresh",
    facts([
      ["State", h("span", { class: `badge refresh-${sum.phase}`, "data-field": "refresh-state", "data-phase": sum.phase }, sum.label)],
      [
        "Requested",
        request === null
          ? null
          : h("span", { "data-field": "refresh-request" }, `by ${request.author} `, timeEl(request.at, zone), `${request.ignoreWindow ? ", ignoring the windows" : ""}: the next tick pins the image id the rules' image resolves to then, and starts`),
      ],
      ["Target image", shown === null ? null : h("code", { "data-field": "refresh-target" }, shown.targetImageId)],
      [
        "Started",
        shown === null
          ? null
          : h("span", {}, timeEl(shown.startedAt, zone), ` (${fromNow(shown.startedAt)}), ${shown.trigger === "manual" ? "started by hand" : shown.trigger === "drift" ? "on an image change" : shown.trigger}${shown.ignoreWindow ? ", ignoring the windows" : ""}`),
      ],
      ["Replaced", shown === null || sum.replacedOf === undefined ? (shown === null ? null : String(shown.replaced)) : h("span", { "data-field": "refresh-replaced" }, `${sum.replacedOf.replaced} of ${sum.replacedOf.total}`)],
      ["New servers", progress === undefined ? null : h("span", { "data-field": "refresh-new" }, `${progress.newPending} booting, ${progress.newReady} ready`)],
      ["In service", progress === undefined ? null : `${progress.inService} ACTIVE healthy (kept at least ${progress.minInService})`],
      ["Failed", shown === null ? null : h("span", { "data-field": "refresh-failed" }, `${sum.failed} (it halts at ${sum.failureThreshold})`)],
      ["Window", windowText()],
      ["Parked", progress === undefined || progress.oldParked === 0 ? null : `${progress.oldParked} parked member(s) on an old image, refreshed when resumed`],
      ["Halted", shown?.halted === undefined ? null : h("span", { "data-field": "refresh-halted" }, shown.halted.reason, " (", timeEl(shown.halted.at, zone), ")")],
      ["Done", shown?.completedAt === undefined || shown.halted !== undefined ? null : h("span", { "data-field": "refresh-done" }, timeEl(shown.completedAt, zone), ` (${fromNow(shown.completedAt)}): every member runs the target image`)],
    ]),
    sum.phase === "none" ? h("p", { class: "muted" }, "None yet: one starts when the rules' image resolves to a new id (inside a window), or with Start refresh.") : null,
    withRules ? null : h("p", { class: "muted" }, "The rules no longer have a refresh: no new one starts."),
  );
}
