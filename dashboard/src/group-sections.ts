// The read-only parts of a group's page: status, activity log (with a kind filter), snapshots, dry-run plan, chart data table.
import { h, replace, uid } from "./dom.ts";
import { byState, formatTime, fromNow, timeEl, total } from "./format.ts";
import type { ChartData } from "./series.ts";
import type { ActivityEntry, GroupStatus, PlanPreview, SnapshotListing, Step } from "./types.ts";
import { dataTable, facts, healthBadge, plain, section } from "./widgets.ts";

export function statusCard(s: GroupStatus, zone: string): HTMLElement {
  const tick = s.lastTick;
  const problems = [...(tick?.errors ?? []).map((e) => `${e.operation}: ${e.message}`), ...(tick?.notices ?? []).filter((n) => n.level !== "info").map((n) => n.message)];
  return section(
    "Status",
    "status",
    facts([
      ["Health", healthBadge(s.health)],
      ["Desired", h("span", {}, h("strong", { "data-field": "desired" }, String(s.desired.value)), " — ", s.desired.reason)],
      ["Actual", h("span", { "data-field": "actual" }, `${total(s.actualByStatus) ?? "—"} (${byState(s.actualByStatus)})`)],
      ["Override", h("span", { "data-field": "override" }, s.override === null ? "none" : h("span", {}, `${s.override.desired} until `, timeEl(s.override.until, zone), ` (${fromNow(s.override.until)}), by ${s.override.author}: ${s.override.reason}`))],
      ["Paused", h("span", { "data-field": "pause" }, s.pause === null ? (s.rules["paused"] === true ? "yes, by the rules" : "no") : `by ${s.pause.by} ${fromNow(s.pause.at)}${s.pause.reason === undefined ? "" : `: ${s.pause.reason}`}`)],
      ["Parked", parkedText(s.parking)],
      // Shown only while a fallback is in force: a group on its preferred flavor needs no line about it.
      ["Flavor fallback", s.flavors?.fallback === true ? h("span", { "data-field": "flavor-fallback" }, s.flavors.reason) : null],
      ["Deferred", s.deferred === null || s.deferred === undefined ? null : h("span", { "data-field": "deferred" }, s.deferred.message)],
      ["Booting blocked", s.bootBlock !== null ? h("span", {}, `${s.bootBlock.reason} (since `, timeEl(s.bootBlock.at, zone), ")") : s.bootBackoff ? h("span", { "data-field": "boots-blocked" }, "until ", timeEl(s.bootBackoff.until, zone), ` (${fromNow(s.bootBackoff.until)}) after ${s.bootBackoff.failures} failures in a row: ${s.bootBackoff.cause}`) : null],
      ["Next change", s.nextChanges[0] === undefined ? "none in 24 h" : h("span", {}, `${s.nextChanges[0].value} at `, timeEl(s.nextChanges[0].at, zone), ` (${fromNow(s.nextChanges[0].at)}): ${s.nextChanges[0].reason}`)],
      ["Last tick", tick === null ? "none yet" : h("span", {}, timeEl(tick.lastSeenAt ?? tick.at, zone), ` (${fromNow(tick.lastSeenAt ?? tick.at)}), ${tick.trigger}`)],
      ["Rules", h("span", {}, "changed ", timeEl(s.updatedAt, zone), ` by ${s.updatedBy}`)],
    ]),
    problems.length > 0 ? h("ul", { class: "problems" }, problems.map((p) => h("li", {}, p))) : null,
  );
}

/** Parked servers now and the server-hours they spent parked; null (row hidden) for a group that has never parked. */
function parkedText(parking: GroupStatus["parking"]): HTMLElement | null {
  if (parking === null || parking === undefined) return null;
  const { parked, serverHoursParked: hours } = parking;
  const names = parked.length === 0 ? "none now" : `${parked.length}: ${parked.map((p) => `${p.name} (since ${fromNow(p.since)})`).join(", ")}`;
  return h("span", { "data-field": "parked" }, `${names}; ${hours.last7Days} server-hours in 7 days, ${hours.last30Days} in 30 days`);
}

function stepLine(step: Step): HTMLElement {
  return h("li", {}, h("strong", {}, step.kind), ": ", step.reason);
}

export function planBody(plan: PlanPreview, zone: string): HTMLElement {
  return h(
    "div",
    {},
    h("p", {}, "As of ", timeEl(plan.at, zone), `: desired ${plan.desired.value} (${plan.desired.reason}); servers now ${byState(plan.actualByStatus)}.`),
    // No steps with reasons below is not "nothing to do": the reasons say what is held back (an empty list would render as nothing).
    plan.steps.length > 0
      ? h("ol", { class: "steps" }, plan.steps.map(stepLine))
      : (plan.noBootReasons ?? []).length === 0
        ? h("p", { class: "ok" }, "Nothing to do.")
        : h("p", { class: "no-steps" }, "No steps this tick."),
    (plan.noBootReasons ?? []).length === 0
      ? null
      : h("div", { class: "warning", id: "no-boot-reasons" }, h("p", {}, "Why no more servers boot:"), h("ul", {}, (plan.noBootReasons ?? []).map((r) => h("li", { "data-code": r.code }, r.message)))),
    [...plan.notices.map((n) => `${n.level}: ${n.message}`), ...plan.errors.map((e) => `error: ${e.operation}: ${e.message}`)].map((line) => h("p", { class: "muted" }, line)),
  );
}

/** A list of objects as a table whose columns are the union of their fields (times in the zone). */
function recordsTable(caption: string, rows: Record<string, unknown>[], zone: string): HTMLElement {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== "id" || rows.every((r) => typeof r["name"] !== "string"));
  const cell = (c: string, v: unknown) => {
    const text = typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v) ? timeEl(v, zone) : plain(v);
    return h("td", { "data-label": c }, c === "status" || c === "phase" ? h("span", { class: `badge snap-${String(v)}` }, text) : text);
  };
  return dataTable(caption, columns, rows.map((r) => h("tr", {}, columns.map((c) => cell(c, r[c])))));
}

/**
 * The snapshots answer, rendered by shape rather than by name (snapshot policies grow): lists of objects
 * become tables, objects become fact lists, notices become lines; known fields get friendly headings.
 */
export function snapshotsBody(listing: SnapshotListing, zone: string): HTMLElement {
  const headings: Record<string, string> = { status: "Latest firing", snapshots: "Snapshots, newest first" };
  const parts: (HTMLElement | null)[] = [];
  for (const [key, value] of Object.entries(listing)) {
    if (key === "group") continue;
    const title = headings[key] ?? key;
    if (key === "notices" && Array.isArray(value)) {
      parts.push(...(value as { level: string; message: string }[]).map((n) => h("p", { class: "muted" }, `${n.level}: ${n.message}`)));
    } else if (Array.isArray(value)) {
      const rows = value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null);
      parts.push(h("h3", {}, title), rows.length === 0 ? h("p", {}, key === "snapshots" ? "No snapshots yet." : "none") : recordsTable(title, rows, zone));
    } else if (value === null) {
      if (key === "status") parts.push(h("p", { class: "muted" }, "No snapshot policy."));
    } else if (typeof value === "object") {
      const fields = Object.entries(value as Record<string, unknown>).map(([k, v]): [string, string] => [k, typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v) ? formatTime(v, zone) : plain(v)]);
      parts.push(h("h3", {}, title), facts(fields));
    } else {
      parts.push(facts([[title, plain(value)]]));
    }
  }
  return h("div", {}, parts);
}

/** The activity log with a filter by kind (kinds come from the entries: new kinds appear by themselves). */
export function activityCard(entries: ActivityEntry[], zone: string, selected: { kind: string }): HTMLElement {
  const kinds = [...new Set(entries.map((e) => e.kind))].sort();
  const select = h("select", { id: uid("kind") }, h("option", { value: "" }, "all kinds"), kinds.map((k) => h("option", { value: k, selected: k === selected.kind }, k)));
  const tbody = h("tbody", {});
  const fill = () => {
    const shown = entries.filter((e) => selected.kind === "" || e.kind === selected.kind);
    replace(
      tbody,
      shown.length === 0
        ? h("tr", {}, h("td", { colspan: 4 }, "No activity."))
        : shown.map((e) =>
            h(
              "tr",
              {},
              h("td", { "data-label": "time" }, timeEl(e.at, zone)),
              h("td", { "data-label": "kind" }, h("span", { class: "kind" }, e.kind)),
              h("td", { "data-label": "by" }, e.author),
              h("td", { "data-label": "reason" }, e.reason),
            ),
          ),
    );
  };
  select.addEventListener("change", () => {
    selected.kind = select.value;
    fill();
  });
  fill();
  return section(
    "Activity",
    "activity",
    h("div", { class: "toolbar" }, h("label", { for: select.id }, "Kind"), select),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "activity" },
        h("caption", { class: "visually-hidden" }, "Activity log, newest first"),
        h("thead", {}, h("tr", {}, ["time", "kind", "by", "reason"].map((c) => h("th", { scope: "col" }, c)))),
        tbody,
      ),
    ),
  );
}

/** The chart's numbers as a table, for screen readers and for reading exact values. */
export function chartTable(data: ChartData, zone: string): HTMLElement {
  const rows: HTMLElement[] = [];
  data.xs.forEach((x, i) => {
    const iso = new Date(x * 1000).toISOString();
    rows.push(
      h("tr", {}, h("td", {}, timeEl(iso, zone)), h("td", {}, plain(data.desired[i] ?? null)), h("td", {}, plain(data.actual[i] ?? null)), h("td", {}, plain(data.active[i] ?? null))),
    );
  });
  return h(
    "details",
    {},
    h("summary", {}, `The chart as a table (${rows.length} rows)`),
    h(
      "div",
      { class: "scroll" },
      h("table", {}, h("thead", {}, h("tr", {}, ["from", "desired", "actual", "ACTIVE"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows.slice(-500))),
    ),
  );
}
