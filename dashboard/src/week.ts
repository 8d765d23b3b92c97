// The week view: a calendar grid (7 local days x 24 local hours) of the desired count in the group's zone, holidays marked.
import { h } from "./dom.ts";
import { utcTitle } from "./format.ts";
import type { RulesPreview } from "./types.ts";
import { weekGrid } from "./week-grid.ts";

/** Exception days by local date, with their names (from the preview's occurrences). */
export function holidayNames(preview: RulesPreview): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of preview.occurrences.exceptions) for (const d of e.next) out.set(d.date, [...(out.get(d.date) ?? []), ...d.names]);
  return out;
}

const dayLabel = (date: string): string => {
  const [y, m, d] = date.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
};

/** The grid as a table: a column per day (holidays marked with their names), a row per hour; the shade follows the count. */
export function weekTable(preview: RulesPreview, zone: string, max: number): HTMLElement {
  const grid = weekGrid(preview.points, Date.parse(preview.from), zone, preview.hours, preview.truncated ? Date.parse(preview.through) : Number.POSITIVE_INFINITY);
  const holidays = holidayNames(preview);
  const shade = (v: number) => (max <= 0 ? 0 : Math.min(4, Math.round((v / max) * 4)));
  return h(
    "div",
    { class: "scroll week", id: "week-view" },
    h(
      "table",
      { class: "week" },
      h(
        "caption",
        {},
        `Desired servers over the next 7 days, by hour, in ${zone}`,
        preview.truncated ? h("div", { class: "truncated" }, `These rules change so often that the preview stops at ${utcTitle(preview.through)}: later hours show "?".`) : null,
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "hour"),
          grid.days.map((date) => {
            const names = holidays.get(date);
            return h("th", { scope: "col", class: names === undefined ? null : "holiday", "data-date": date }, dayLabel(date), names === undefined ? null : h("div", { class: "holiday-name" }, names.join(", ")));
          }),
        ),
      ),
      h(
        "tbody",
        {},
        Array.from({ length: 24 }, (_, hour) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, `${String(hour).padStart(2, "0")}:00`),
            grid.days.map((date, d) => {
              const cell = grid.cells[d]?.[hour];
              if (cell === undefined) return h("td", { class: "past" }, "");
              if (cell.unknown === true) return h("td", { class: "unknown", title: "past the end of the preview" }, "?");
              return h("td", { class: `level-${shade(cell.value)}${holidays.has(date) ? " holiday" : ""}`, title: `${utcTitle(new Date(cell.at).toISOString())}: ${cell.reason}`, "data-date": date, "data-hour": hour }, String(cell.value));
            }),
          ),
        ),
      ),
    ),
  );
}
