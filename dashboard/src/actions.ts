// The operator's actions on a group, offered only to tokens whose role allows them: override, end override, pause, resume, reconcile, retry boots, snapshot, start/cancel a rolling refresh.
import { call, canOperate, groupPath, type Session } from "./api.ts";
import { confirmAction } from "./dialog.ts";
import { h, replace, uid } from "./dom.ts";
import { formatTime } from "./format.ts";
import { hasRefreshRules, refreshSummary } from "./refresh-state.ts";
import type { GroupStatus } from "./types.ts";
import { announce, errorBox, section } from "./widgets.ts";

const DURATIONS: [string, number][] = [
  ["15 minutes", 15],
  ["30 minutes", 30],
  ["1 hour", 60],
  ["2 hours", 120],
  ["4 hours", 240],
  ["8 hours", 480],
  ["24 hours", 1_440],
  ["3 days", 4_320],
];

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || uid("f");
  control.id = id;
  const hintId = hint === undefined ? undefined : `${id}-hint`;
  if (hintId !== undefined) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint === undefined ? null : h("small", { id: hintId, class: "muted" }, hint));
}

/** Runs one operator action: "label…" while it runs, then the API's answer (announced) or its error in `result`; `done` after success. */
export async function runAction(result: HTMLElement, done: () => void, label: string, work: () => Promise<string>): Promise<void> {
  replace(result, h("p", { class: "muted" }, `${label}…`));
  try {
    const message = await work();
    replace(result, h("p", { class: "ok" }, message));
    announce(message);
    done();
  } catch (e) {
    replace(result, errorBox(e, `${label} failed: `));
  }
}

/**
 * The actions card, or null for a read token (it sees no action at all). `done` refreshes the page after an
 * action; the API's answer or error is shown in `result` as the API worded it.
 */
export function actionsCard(session: Session, status: GroupStatus, zone: string, result: HTMLElement, done: () => void): HTMLElement | null {
  if (!canOperate(session)) return null;
  const name = status.name;

  const run = (label: string, work: () => Promise<string>) => runAction(result, done, label, work);

  // Override: how many, for how long (or until when), why.
  const desired = h("input", { type: "number", inputmode: "numeric", name: "desired", min: 0, step: 1, value: String(status.desired.value) });
  const lasts = h("select", { name: "lasts" }, ...DURATIONS.map(([label, minutes]) => h("option", { value: String(minutes), selected: minutes === 60 }, label)), h("option", { value: "until" }, "until a time…"));
  const until = h("input", { type: "datetime-local", name: "until" });
  const untilField = field("Until (your local time)", until);
  untilField.hidden = true;
  lasts.addEventListener("change", () => {
    untilField.hidden = lasts.value !== "until";
  });
  const reason = h("input", { type: "text", name: "reason", maxlength: 500, autocomplete: "off", placeholder: "e.g. product launch" });
  const overrideForm = h(
    "form",
    { class: "override", novalidate: true, "aria-label": "Override" },
    h("h3", {}, "Override"),
    h("div", { class: "row" }, field("Servers", desired), field("Lasts", lasts), untilField),
    field("Reason", reason, "shown in status and the activity log"),
    h("button", { type: "submit" }, "Set override"),
  );
  overrideForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = { desired: desired.value === "" ? null : Number(desired.value), reason: reason.value };
    let when: string;
    if (lasts.value === "until") {
      const ms = Date.parse(until.value);
      body["until"] = Number.isFinite(ms) ? new Date(ms).toISOString() : until.value;
      when = `until ${Number.isFinite(ms) ? formatTime(new Date(ms).toISOString(), zone) : "(no time given)"}`;
    } else {
      body["minutes"] = Number(lasts.value);
      when = `for ${lasts.selectedOptions[0]?.textContent ?? `${lasts.value} minutes`}`;
    }
    void (async () => {
      if (!(await confirmAction(`Override ${name}?`, `Hold ${name} at ${desired.value || "?"} server(s) ${when}. Servers may be booted or deleted on the next tick.`, "Set override"))) return;
      await run("Override", async () => {
        const set = await call<{ desired: number; until: string }>(session.token, "PUT", groupPath(name, "/override"), body);
        return `Override set: ${set.desired} server(s) until ${formatTime(set.until, zone)}.`;
      });
    })();
  });

  /** A button that runs `work`; with `confirm`, only after the operator confirms in a dialog (actions that can boot or delete). */
  const button: ButtonMaker = (label, work, confirm) =>
    h(
      "button",
      {
        type: "button",
        class: confirm === undefined ? null : "danger",
        onclick: () =>
          void (async () => {
            // A function: the dialog's text depends on what the form says at click time.
            const asked = typeof confirm === "function" ? confirm() : confirm;
            if (asked !== undefined && !(await confirmAction(asked.title, asked.message, label))) return;
            await run(label, work);
          })(),
      },
      label,
    );

  const pauseReason = h("input", { type: "text", name: "pauseReason", maxlength: 500, autocomplete: "off", placeholder: "optional" });
  const buttons = h(
    "div",
    { class: "buttons" },
    status.override === null
      ? null
      : button(
          "End override",
          async () => {
            const r = await call<{ cleared: boolean }>(session.token, "DELETE", groupPath(name, "/override"));
            return r.cleared ? "Override ended." : "There was no override.";
          },
          { title: `End the override of ${name}?`, message: `The schedule decides again from the next tick: ${name} may scale away from ${status.override.desired}.` },
        ),
    status.pause === null
      ? button("Pause", async () => {
          const reasonText = pauseReason.value.trim();
          const p = await call<{ by: string }>(session.token, "POST", groupPath(name, "/pause"), reasonText === "" ? {} : { reason: reasonText });
          return `Paused by ${p.by}: no boots, no deletes until resumed.`;
        })
      : button("Resume", async () => {
          const r = await call<{ resumed: boolean }>(session.token, "POST", groupPath(name, "/resume"), {});
          return r.resumed ? "Resumed." : "It was not paused by an operator (a pause in the rules stays until the rules change).";
        }),
    button(
      "Reconcile now",
      async () => {
        const t = await call<{ health: string; steps: unknown[] }>(session.token, "POST", groupPath(name, "/reconcile"), {});
        return `Reconciled: ${t.steps.length} step(s), ${t.health}.`;
      },
      { title: `Reconcile ${name} now?`, message: "Runs the group's tick now: servers may be booted or deleted (see the dry-run plan below)." },
    ),
    // Only while booting is stopped: a rejected boot (until the rules change) or a backoff after repeated failures.
    status.bootBlock === null && !status.bootBackoff
      ? null
      : button(
          "Retry boots",
          async () => {
            await call(session.token, "POST", groupPath(name, "/retry-boots"), {});
            return "Boots retried: the next tick boots again.";
          },
          { title: `Retry boots of ${name}?`, message: "Lifts the boot block and the backoff: the next tick boots again with the same rules." },
        ),
    button("Snapshot now", async () => {
      const s = await call<{ image: { name: string }; serverName: string }>(session.token, "POST", groupPath(name, "/snapshots"), {});
      return `Snapshot ${s.image.name} of ${s.serverName} requested.`;
    }),
  );

  return section(
    "Actions",
    "actions",
    overrideForm,
    h("div", { class: "controls" }, h("h3", {}, "Control"), status.pause === null ? field("Pause reason", pauseReason) : null, buttons),
    session.role === "admin" ? refreshControls(status, session.token, button) : null,
    result,
  );
}

type Confirm = { title: string; message: string };
type ButtonMaker = (label: string, work: () => Promise<string>, confirm?: Confirm | (() => Confirm)) => HTMLButtonElement;

/**
 * Start (with "ignore the windows") and Cancel a rolling refresh; admin only, as the API. Without `refresh` in
 * the rules Start is disabled and says why (the API would answer 409).
 */
function refreshControls(status: GroupStatus, token: string, button: ButtonMaker): HTMLElement {
  const name = status.name;
  const sum = refreshSummary(status);
  const withRules = hasRefreshRules(status.rules);
  const ignoreWindow = h("input", { type: "checkbox", name: "ignoreWindow", id: uid("ignore-window") });
  const start = button(
    "Start refresh",
    async () => {
      const r = await call<{ requested: { author: string; ignoreWindow: boolean } }>(token, "POST", groupPath(name, "/refresh"), ignoreWindow.checked ? { ignoreWindow: true } : {});
      return `Refresh requested by ${r.requested.author}: the next tick pins the image and starts${r.requested.ignoreWindow ? ", ignoring the windows" : ""}.`;
    },
    () => ({
      title: `Start a rolling refresh of ${name}?`,
      message: `The next tick pins the image id the rules' image resolves to then and replaces every member on another image, new servers first${ignoreWindow.checked ? ", also outside the disruption windows" : ", inside the disruption windows only"}. Servers will be booted and deleted.`,
    }),
  );
  const reasonId = uid("refresh-why");
  if (!withRules) {
    start.disabled = true;
    start.setAttribute("aria-describedby", reasonId);
    ignoreWindow.disabled = true;
  }
  const cancel = sum.cancellable
    ? button(
        "Cancel refresh",
        async () => {
          const r = await call<{ cancelled: boolean }>(token, "DELETE", groupPath(name, "/refresh"));
          return r.cancelled ? "Refresh cancelled: the next tick deletes new servers not yet ready; replaced members stay." : "There was no refresh to cancel.";
        },
        { title: `Cancel the rolling refresh of ${name}?`, message: "The next tick deletes new servers not yet ready; members already replaced stay. The halt is final for this image." },
      )
    : null;
  return h(
    "div",
    { class: "controls", id: "refresh-controls" },
    h("h3", {}, "Rolling refresh"),
    h("div", { class: "field" }, h("label", { for: ignoreWindow.id }, ignoreWindow, " Ignore the disruption windows")),
    h("div", { class: "buttons" }, start, cancel),
    withRules ? null : h("p", { class: "muted", id: reasonId }, "Start refresh needs `refresh` in the rules (Edit rules)."),
  );
}
