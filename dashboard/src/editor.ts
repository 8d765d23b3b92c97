// New group and Edit rules: a form for the common fields and a JSON editor for all of them (one document), validated by the API's own schema, previewed for 7 days, saved with If-Match / If-None-Match.
import { ApiError, call, callTagged, groupPath, type Session } from "./api.ts";
import { h, replace, uid } from "./dom.ts";
import type { PageHandle } from "./group.ts";
import type { GroupStatus, RulesPreview } from "./types.ts";
import { weekTable } from "./week.ts";
import { errorBox, loading } from "./widgets.ts";

type Rules = Record<string, unknown>;
type Entry = Record<string, unknown>;
/** A PUT answer's warning: something the rules name that the cloud does not resolve (docs/api.md). */
interface RuleWarning {
  field: string;
  code: string;
  message: string;
}

/** The starting document of a new group. */
const NEW_RULES: Rules = { image: "", flavor: "", min: 0, max: 4, default: 1, schedules: [], exceptions: [] };

interface Field {
  input: HTMLInputElement;
  error: HTMLElement;
  /** The API's error path this field answers for (e.g. "body.max"). */
  path: string;
}

function field(label: string, path: string, attrs: Record<string, string | number | boolean> = {}): { wrap: HTMLElement } & Field {
  const id = uid("f");
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  const input = h("input", { id, name: path, "aria-describedby": `${id}-error`, "data-path": path, ...attrs });
  return { wrap: h("div", { class: "field" }, h("label", { for: id }, label), input, error), input, error, path };
}

const isWindow = (e: Entry) => typeof e["window"] === "string";

export function editorPage(root: HTMLElement, session: Session, name: string | null): PageHandle {
  let disposed = false;
  let etag: string | null = null;
  let doc: Rules = structuredClone(NEW_RULES);
  const isNew = name === null;

  const nameField = field("Group name", "params.name", { required: true, autocomplete: "off", spellcheck: "false", pattern: "[a-z0-9][a-z0-9-]{0,62}" });
  const image = field("Image (name or id)", "body.image", { autocomplete: "off" });
  const flavor = field("Flavor (name or id)", "body.flavor", { autocomplete: "off", placeholder: "m1.small, or in order of preference: m1.large, m1.medium" });
  const min = field("Min", "body.min", { type: "number", min: 0 });
  const max = field("Max", "body.max", { type: "number", min: 0 });
  const dflt = field("Default (outside windows)", "body.default", { type: "number", min: 0 });
  const zone = field("Time zone (windows and holidays)", "body.schedules.0.timezone", { autocomplete: "off", placeholder: "Europe/Berlin" });
  const win = field("Window (days and hours)", "body.schedules.0.window", { autocomplete: "off", placeholder: "Mon-Fri 08:00-18:00" });
  const winDesired = field("Servers in the window", "body.schedules.0.desired", { type: "number", min: 0 });
  const holName = field("Holiday name", "body.exceptions.0.name", { autocomplete: "off", placeholder: "Christmas" });
  const holDates = field("Holiday dates (YYYY-MM-DD, comma-separated)", "body.exceptions.0.dates", { autocomplete: "off", placeholder: "2026-12-25, 2026-12-26" });
  const holDesired = field("Servers on holidays", "body.exceptions.0.desired", { type: "number", min: 0 });
  const fields = [nameField, image, flavor, min, max, dflt, zone, win, winDesired, holName, holDates, holDesired];
  const jsonId = uid("json");
  const json = h("textarea", { id: jsonId, class: "json", rows: 18, spellcheck: "false", "aria-describedby": `${jsonId}-error` });
  const jsonError = h("div", { id: `${jsonId}-error`, role: "alert" });
  const previewSlot = h("div", { id: "preview" });
  const saveResult = h("div", { id: "save-result", role: "status", "aria-live": "polite" });
  const saveButton = h("button", { type: "submit" }, isNew ? "Create group" : "Save rules");
  const previewButton = h("button", { type: "button", class: "secondary" }, "Preview 7 days");
  if (!isNew) {
    nameField.input.value = name;
    nameField.input.readOnly = true;
  }

  const num = (input: HTMLInputElement): number | undefined => (input.value.trim() === "" ? undefined : Number(input.value));
  /** The first window entry and the first exception are the form's; the others stay in the JSON as they are. */
  const firstIndex = (list: Entry[], pick: (e: Entry) => boolean) => list.findIndex(pick);
  /** The rules' flavor as the form shows it: a name, names joined by ", ", or JSON for an {id}. */
  const flavorShown = (v: unknown): string => {
    const one = (x: unknown) => (typeof x === "string" ? x : x === undefined || x === null ? "" : JSON.stringify(x));
    return Array.isArray(v) ? v.map(one).join(", ") : one(v);
  };
  /** What the form's text means: several names separated by commas are a list in order of preference. */
  const flavorFromText = (text: string): string | string[] =>
    text.includes(",") ? text.split(",").map((x) => x.trim()).filter((x) => x !== "") : text;

  /** Form -> document: only the keys the form shows change; everything else in the JSON is kept. */
  function formToDoc(): void {
    const next: Rules = { ...doc };
    const set = (key: string, value: unknown) => {
      if (value === undefined || value === "") delete next[key];
      else next[key] = value;
    };
    set("image", image.input.value.trim());
    // A list of flavors (in order of preference) is written "m1.large, m1.medium"; an unchanged field keeps
    // the document's value as it was (a flavor by {id}, or a list holding one, stays intact).
    const flavorText = flavor.input.value.trim();
    set("flavor", flavorText === flavorShown(doc["flavor"]) ? doc["flavor"] : flavorFromText(flavorText));
    set("min", num(min.input));
    set("max", num(max.input));
    set("default", num(dflt.input));
    const tz = zone.input.value.trim() || "UTC";
    const schedules = [...((doc["schedules"] as Entry[] | undefined) ?? [])];
    const wi = firstIndex(schedules, isWindow);
    if (win.input.value.trim() !== "") {
      const entry = { ...(wi >= 0 ? schedules[wi] : {}), window: win.input.value.trim(), timezone: tz, desired: num(winDesired.input) ?? 0 };
      if (wi >= 0) schedules[wi] = entry;
      else schedules.push(entry);
    } else if (wi >= 0) schedules.splice(wi, 1);
    next["schedules"] = schedules;
    const exceptions = [...((doc["exceptions"] as Entry[] | undefined) ?? [])];
    const dates = holDates.input.value.split(/[\s,]+/).filter((d) => d !== "");
    if (holName.input.value.trim() !== "" || dates.length > 0) {
      const entry: Entry = { ...(exceptions[0] ?? {}), name: holName.input.value.trim(), dates, timezone: tz, desired: num(holDesired.input) ?? 0 };
      if (exceptions.length > 0) exceptions[0] = entry;
      else exceptions.push(entry);
    } else if (exceptions.length > 0 && exceptions[0]?.["ics"] === undefined) exceptions.splice(0, 1);
    next["exceptions"] = exceptions;
    doc = next;
    json.value = JSON.stringify(doc, null, 2);
  }

  /** Document -> form. */
  function docToForm(): void {
    const text = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
    image.input.value = text(doc["image"]);
    flavor.input.value = flavorShown(doc["flavor"]);
    min.input.value = text(doc["min"]);
    max.input.value = text(doc["max"]);
    dflt.input.value = text(doc["default"]);
    const schedules = (doc["schedules"] as Entry[] | undefined) ?? [];
    const w = schedules.find(isWindow);
    const e = ((doc["exceptions"] as Entry[] | undefined) ?? [])[0];
    zone.input.value = text(w?.["timezone"] ?? e?.["timezone"] ?? "");
    win.input.value = text(w?.["window"]);
    winDesired.input.value = text(w?.["desired"]);
    holName.input.value = text(e?.["name"]);
    holDates.input.value = ((e?.["dates"] as string[] | undefined) ?? []).join(", ");
    holDesired.input.value = text(e?.["desired"]);
  }

  /** Shows the API's field errors at their fields; the rest under the JSON editor. Nothing typed is touched. */
  function showErrors(error: unknown): void {
    for (const f of fields) replace(f.error);
    const details = error instanceof ApiError && Array.isArray(error.details) ? (error.details as { path?: string; message?: string }[]) : [];
    const rest: { path?: string; message?: string }[] = [];
    for (const d of details) {
      const f = fields.find((x) => d.path === x.path || (d.path ?? "").startsWith(`${x.path}.`));
      if (f === undefined) rest.push(d);
      else {
        replace(f.error, d.message ?? "invalid");
        f.input.setAttribute("aria-invalid", "true");
      }
    }
    replace(jsonError, error === undefined ? null : errorBox(error instanceof ApiError ? new ApiError(error.status, error.code, error.message, rest) : error));
  }
  const clearInvalid = () => fields.forEach((f) => f.input.removeAttribute("aria-invalid"));

  /** Reads the JSON editor into the document; false (and an error shown) when it is not a JSON object. */
  function readJson(): boolean {
    try {
      const parsed = JSON.parse(json.value) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the rules must be a JSON object");
      doc = parsed as Rules;
      return true;
    } catch (e) {
      replace(jsonError, errorBox(e, "JSON: "));
      return false;
    }
  }

  const targetName = () => (isNew ? nameField.input.value.trim() : (name as string));

  async function runPreview(): Promise<void> {
    if (!readJson()) return;
    clearInvalid();
    replace(previewSlot, loading("the preview"));
    try {
      const p = await call<RulesPreview>(session.token, "POST", groupPath(targetName() || "preview", "/preview?hours=168"), doc);
      showErrors(undefined);
      const tz = String(((doc["schedules"] as Entry[] | undefined) ?? [])[0]?.["timezone"] ?? ((doc["exceptions"] as Entry[] | undefined) ?? [])[0]?.["timezone"] ?? "UTC");
      replace(previewSlot, h("p", {}, `The next 7 days with these rules (${p.points.length} change point(s)):`), weekTable(p, tz, Number(doc["max"] ?? 0)));
    } catch (e) {
      replace(previewSlot);
      showErrors(e);
    }
  }

  async function save(): Promise<void> {
    if (!readJson()) return;
    clearInvalid();
    const target = targetName();
    if (target === "") {
      replace(nameField.error, "enter a name");
      nameField.input.focus();
      return;
    }
    saveButton.disabled = true;
    replace(saveResult);
    try {
      const headers: Record<string, string> = isNew ? { "If-None-Match": "*" } : etag === null ? {} : { "If-Match": etag };
      const answer = await callTagged<{ revision: number; warnings?: RuleWarning[] }>(session.token, "PUT", groupPath(target), doc, headers);
      etag = answer.etag;
      showErrors(undefined);
      const warnings = answer.value.warnings ?? [];
      // The rules are stored either way; what the cloud does not have is shown at its field and listed under the save.
      for (const w of warnings) {
        // A warning names the rules' field ("flavor"); a form field answers for the API's error path ("body.flavor").
        const path = `body.${w.field}`;
        const f = fields.find((x) => path === x.path || path.startsWith(`${x.path}.`));
        if (f !== undefined) replace(f.error, `Warning: ${w.message}`);
      }
      replace(
        saveResult,
        h("p", { class: "ok" }, `Saved: revision ${answer.value.revision}. `, h("a", { href: `#/groups/${encodeURIComponent(target)}` }, "Open the group")),
        warnings.length === 0
          ? null
          : h(
              "div",
              { class: "warning", role: "status", id: "save-warnings" },
              h("p", {}, `Saved, but the cloud does not resolve ${warnings.length === 1 ? "one reference" : `${warnings.length} references`}: boots would fail until this is fixed.`),
              h("ul", {}, ...warnings.map((w) => h("li", {}, `${w.field} (${w.code}): ${w.message}`))),
            ),
      );
      if (isNew) location.hash = `#/groups/${encodeURIComponent(target)}`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        // Someone else changed the rules (or the name is taken): keep every keystroke, offer the other version side by side.
        showErrors(undefined);
        const reload = h("button", { type: "button", class: "secondary", id: "load-theirs" }, "Show their version");
        const theirs = h("pre", { class: "json theirs", hidden: true });
        reload.addEventListener("click", () => void (async () => {
          const now = await callTagged<GroupStatus>(session.token, "GET", groupPath(target));
          theirs.textContent = JSON.stringify(now.value.rules, null, 2);
          theirs.hidden = false;
          etag = now.etag;
          replace(reload, "Saving again will replace their version with yours");
          reload.disabled = true;
        })());
        replace(
          saveResult,
          h(
            "div",
            { class: "error conflict", role: "alert" },
            h("p", {}, isNew ? `A group named '${target}' already exists (HTTP 412). Your input is kept.` : "Someone changed these rules since you opened them (HTTP 412): nothing was saved. Your input is kept below."),
            isNew ? null : reload,
            theirs,
          ),
        );
      } else {
        showErrors(e);
      }
    } finally {
      saveButton.disabled = false;
    }
  }

  for (const f of fields) f.input.addEventListener("input", () => {
    if (readJson()) formToDoc();
  });
  json.addEventListener("input", () => {
    try {
      const parsed = JSON.parse(json.value) as unknown;
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        doc = parsed as Rules;
        docToForm();
        replace(jsonError);
      }
    } catch {
      // half-typed JSON: the form keeps its values until the text parses again
    }
  });
  previewButton.addEventListener("click", () => void runPreview());
  const form = h(
    "form",
    { class: "card editor", id: "rules-editor", "aria-labelledby": "editor-title", novalidate: true },
    h("h2", { id: "editor-title" }, "Common fields"),
    nameField.wrap,
    h("div", { class: "row" }, image.wrap, flavor.wrap),
    h("div", { class: "row" }, min.wrap, max.wrap, dflt.wrap),
    h("fieldset", {}, h("legend", {}, "A window (the first one in the rules)"), h("div", { class: "row" }, win.wrap, winDesired.wrap)),
    h("fieldset", {}, h("legend", {}, "Holidays (the first exception)"), h("div", { class: "row" }, holName.wrap, holDates.wrap, holDesired.wrap)),
    zone.wrap,
    h("h2", {}, h("label", { for: jsonId }, "All rules as JSON")),
    h("p", { class: "muted" }, "The form and this document are one: editing either updates the other. Other schedule entries, exceptions and fields stay as written. See docs/api.md for every field."),
    json,
    jsonError,
    h("div", { class: "buttons" }, previewButton, saveButton),
    saveResult,
    previewSlot,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void save();
  });

  replace(
    root,
    h("p", {}, h("a", { href: isNew ? "#/" : `#/groups/${encodeURIComponent(name)}` }, isNew ? "← All groups" : "← Back to the group")),
    h("h1", {}, isNew ? "New group" : h("span", {}, "Edit rules of ", h("span", { class: "name" }, name))),
    session.role === "admin" ? form : errorBox(new Error("changing rules needs an admin token")),
  );
  document.title = `${isNew ? "New group" : `Edit ${name}`} · novascale`;

  if (isNew) {
    json.value = JSON.stringify(doc, null, 2);
    docToForm();
    nameField.input.focus();
  } else {
    replace(saveResult, loading("the rules"));
    void (async () => {
      try {
        const current = await callTagged<GroupStatus>(session.token, "GET", groupPath(name));
        if (disposed) return;
        etag = current.etag;
        doc = current.value.rules;
        json.value = JSON.stringify(doc, null, 2);
        docToForm();
        replace(saveResult);
      } catch (e) {
        replace(saveResult, errorBox(e));
      }
    })();
  }
  return {
    dispose() {
      disposed = true;
    },
  };
}
