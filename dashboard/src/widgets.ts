// Small shared pieces of the page: health badges, error boxes, sections, definition lists, the live status line.
import { ApiError, detailLines } from "./api.ts";
import { h, replace } from "./dom.ts";

// Groups' health words, then snapshot policies' (ok, stale), then clouds' (failing).
const KNOWN_HEALTH = new Set(["steady", "converging", "paused", "capacity-limited", "error", "unknown", "ok", "stale", "failing"]);

/** The health as a word in a coloured badge (the word carries the meaning; colour only helps). */
export function healthBadge(health: string): HTMLElement {
  const kind = KNOWN_HEALTH.has(health) ? health : "other";
  return h("span", { class: `badge health-${kind}`, "data-health": health }, health);
}

/** An API error as the API said it, with field details when there are some. */
export function errorBox(error: unknown, prefix = ""): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError && error.status > 0 ? ` (HTTP ${error.status})` : "";
  const lines = error instanceof ApiError ? detailLines(error.details) : [];
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, prefix, message, status),
    lines.length > 0 ? h("ul", {}, lines.map((l) => h("li", {}, l))) : null,
  );
}

export function section(title: string, id: string, ...body: (Node | null)[]): HTMLElement {
  const headingId = `${id}-title`;
  return h("section", { class: "card", id, "aria-labelledby": headingId }, h("h2", { id: headingId }, title), ...body);
}

/** A definition list from pairs; values may be nodes. */
export function facts(pairs: [string, Node | string | number | null | undefined][]): HTMLElement {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v as Node | string | number)]),
  );
}

/** A scrolling table with a hidden caption, column headings and body rows (or one row saying `empty`). */
export function dataTable(caption: string, columns: string[], rows: HTMLElement[], opts: { empty?: string; className?: string } = {}): HTMLElement {
  const body = rows.length === 0 && opts.empty !== undefined ? [h("tr", {}, h("td", { colspan: columns.length }, opts.empty))] : rows;
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: opts.className },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, body),
    ),
  );
}

/** Any JSON value as readable text (for fields the dashboard does not know by name). */
export function plain(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  // A nested object that has a name (an image, a server) reads as its name.
  const named = (value as { name?: unknown }).name;
  if (typeof named === "string") return named;
  return JSON.stringify(value);
}

/** Announces a short message to screen readers and shows it briefly. */
export function announce(message: string): void {
  const toast = document.getElementById("toast");
  if (toast === null) return;
  replace(toast, message);
  toast.classList.add("shown");
  window.setTimeout(() => toast.classList.remove("shown"), 4_000);
}

export function loading(label: string): HTMLElement {
  return h("p", { class: "muted", "aria-busy": "true" }, `Loading ${label}…`);
}
