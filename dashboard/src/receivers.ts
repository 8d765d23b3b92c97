// A group's "Signals" section: its receivers (list for every role; create with the URL and secret shown once, and delete, for admins).
import { call, groupPath, type Session } from "./api.ts";
import { confirmAction } from "./dialog.ts";
import { h, replace, uid } from "./dom.ts";
import { fromNow, timeEl } from "./format.ts";
import { announce, dataTable, errorBox } from "./widgets.ts";

/** GET /v1/groups/{name}/receivers' items (never a secret). */
interface Receiver {
  id: string;
  name: string;
  action: "raise" | "clear";
  desired?: number;
  durationMinutes?: number;
  auth: "signature" | "bearer";
  createdAt: string;
  createdBy: string;
  lastSignalAt?: string;
  signals: number;
  url: string;
}

/** POST's answer: the only time the secret is shown. */
interface Created {
  receiver: Receiver;
  url: string;
  secret: string;
}

function minutesText(minutes: number | undefined): string {
  if (minutes === undefined) return "—";
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id ||= uid("rcv");
  const hintId = hint === undefined ? undefined : `${control.id}-hint`;
  if (hintId !== undefined) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint === undefined ? null : h("small", { id: hintId, class: "muted" }, hint));
}

/** A read-only value with a copy button (the Clipboard API; if refused, the text is selected for Ctrl+C). */
function copyable(label: string, value: string, id: string): HTMLElement {
  const input = h("input", { type: "text", readonly: true, value, id, class: "copy-value", spellcheck: "false", autocomplete: "off" });
  const copy = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "data-copy": id,
      onclick: () =>
        void (async () => {
          try {
            await navigator.clipboard.writeText(value);
            announce(`${label} copied`);
          } catch {
            input.select();
            announce(`${label} selected: press Ctrl+C to copy`);
          }
        })(),
    },
    `Copy ${label === "URL" ? label : label.toLowerCase()}`,
  );
  return h("div", { class: "field" }, h("label", { for: id }, label), h("div", { class: "copy-row" }, input, copy));
}

/** Fills `root` with the section's body; answers a function that loads the list again. */
export function receiversSection(root: HTMLElement, session: Session, group: string, zone: () => string): () => Promise<void> {
  const admin = session.role === "admin";
  const listSlot = h("div", {});
  const result = h("div", { class: "result", role: "status", "aria-live": "polite", id: "receiver-result" });

  const load = async () => {
    try {
      const { receivers } = await call<{ receivers: Receiver[] }>(session.token, "GET", groupPath(group, "/receivers"));
      const columns = ["name", "action", "amount", "duration", "created", "last used", ...(admin ? [""] : [])];
      const rows = receivers.map((r) =>
        h(
          "tr",
          { "data-receiver": r.name },
          h("td", { "data-label": "name" }, r.name, h("div", { class: "why" }, r.auth === "bearer" ? "signed or bearer secret" : "signed")),
          h("td", { "data-label": "action" }, r.action),
          h("td", { "data-label": "amount" }, r.action === "raise" ? `at least ${r.desired ?? "?"}` : "ends all signals"),
          h("td", { "data-label": "duration" }, minutesText(r.durationMinutes)),
          h("td", { "data-label": "created" }, timeEl(r.createdAt, zone()), ` by ${r.createdBy}`),
          h("td", { "data-label": "last used" }, r.lastSignalAt === undefined ? "never" : h("span", {}, timeEl(r.lastSignalAt, zone()), ` (${fromNow(r.lastSignalAt)}), ${r.signals} signal(s)`)),
          admin
            ? h("td", { "data-label": "" }, h("button", { type: "button", class: "danger", "data-delete": r.name, onclick: () => void remove(r) }, `Delete ${r.name}`))
            : null,
        ),
      );
      replace(listSlot, dataTable("The group's signal receivers", columns, rows, { empty: "No receivers: nothing outside can raise this group.", className: "receivers" }));
    } catch (e) {
      replace(listSlot, errorBox(e));
    }
  };

  const remove = async (r: Receiver) => {
    if (!(await confirmAction(`Delete receiver ${r.name}?`, `Its URL stops working at once and the signals it raised end: ${group} falls back to its schedule.`, "Delete receiver"))) return;
    replace(result, h("p", { class: "muted" }, "Deleting…"));
    try {
      await call(session.token, "DELETE", groupPath(group, `/receivers/${encodeURIComponent(r.id)}`));
      replace(result, h("p", { class: "ok" }, `Receiver ${r.name} deleted.`));
      announce(`Receiver ${r.name} deleted`);
      await load();
    } catch (e) {
      replace(result, errorBox(e, "Delete failed: "));
    }
  };

  let form: HTMLElement | null = null;
  if (admin) {
    const action = h("select", { name: "action" }, h("option", { value: "raise" }, "raise the group"), h("option", { value: "clear" }, "clear its signals"));
    const name = h("input", { type: "text", name: "receiverName", maxlength: 63, autocomplete: "off", placeholder: "e.g. alertmanager" });
    const desired = h("input", { type: "number", inputmode: "numeric", name: "receiverDesired", min: 1, step: 1, value: "2" });
    const duration = h("input", { type: "number", inputmode: "numeric", name: "receiverMinutes", min: 1, max: 10080, step: 1, value: "30" });
    const auth = h("select", { name: "auth" }, h("option", { value: "signature" }, "signature (HMAC, replay window)"), h("option", { value: "bearer" }, "signature or bearer secret"));
    const raiseFields = h("div", { class: "row" }, field("At least (servers)", desired), field("For (minutes after each signal)", duration, "1 to 10080"));
    action.addEventListener("change", () => {
      raiseFields.hidden = action.value !== "raise";
    });
    form = h(
      "form",
      { class: "receiver-create", novalidate: true, "aria-label": "New receiver" },
      h("h3", {}, "New receiver"),
      h("div", { class: "row" }, field("Action", action), field("Name", name, "optional; lower-case letters, digits and '-'"), field("Authentication", auth)),
      raiseFields,
      h("button", { type: "submit" }, "Create receiver"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body: Record<string, unknown> = { action: action.value, auth: auth.value };
      if (name.value.trim() !== "") body["name"] = name.value.trim();
      if (action.value === "raise") {
        body["desired"] = desired.value === "" ? null : Number(desired.value);
        body["durationMinutes"] = duration.value === "" ? null : Number(duration.value);
      }
      void (async () => {
        replace(result, h("p", { class: "muted" }, "Creating…"));
        try {
          const created = await call<Created>(session.token, "POST", groupPath(group, "/receivers"), body);
          replace(
            result,
            h(
              "div",
              { class: "secret-once", id: "receiver-created" },
              h("p", { class: "ok" }, `Receiver ${created.receiver.name} created. The secret is shown only now: copy it to the sender (Alertmanager, Aodh, a CI job).`),
              copyable("URL", created.url, "receiver-url"),
              copyable("Secret", created.secret, "receiver-secret"),
              h(
                "p",
                { class: "muted" },
                "Sign each POST with Novascale-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"t.body\")>",
                created.receiver.auth === "bearer" ? ", or send Authorization: Bearer <secret>" : "",
                " (docs/signals.md).",
              ),
            ),
          );
          announce(`Receiver ${created.receiver.name} created`);
          name.value = "";
          await load();
        } catch (e) {
          replace(result, errorBox(e, "Create failed: "));
        }
      })();
    });
  }

  replace(
    root,
    h("p", { class: "muted" }, "Capability URLs that raise this group for a while (desired = clamp(max(schedule, live signals))); an override still wins."),
    listSlot,
    form,
    result,
  );
  return load;
}
