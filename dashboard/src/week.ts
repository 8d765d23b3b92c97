// The week view: a calendar grid (7 local days x 24 local hours) of the desired count in the group's zone, holidays marked.
import { h } from "./dom.ts";
import { utcTitle } from "./format.ts";
import type { ChangePoint, RulesPreview } from "./types.ts";

const HOUR_MS = 3_600_000;

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
/** The local date (YYYY-MM-DD) and hour of an instant in `zone`. */
export function localDateHour(ms: number, zone: string): { date: string; hour: number } {
  let f = partsFormatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23" });
    partsFormatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { date: `${p["year"]}-${p["month"]}-${p["day"]}`, hour: Number(p["hour"]) % 24 };
}

/** The value in force at `ms`: the last change point at or before it (undefined before the first). */
export function valueAt(points: readonly ChangePoint[], ms: number): ChangePoint | undefined {
  let found: ChangePoint | undefined;
  for (const p of points) {
    if (Date.parse(p.at) <= ms) found = p;
    else break;
  }
  return found;
}

export interface WeekCell {
  value: number;
  reason: string;
  at: number;
}
export interface WeekGrid {
  days: string[];
  /** cells[day][hour]; undefined for hours already past (today) or missing (DST spring forward). */
  cells: Array<Array<WeekCell | undefined>>;
}

/** Buckets the next `hours` hours by local date and hour (each cell: the value at the hour's start). */
export function weekGrid(points: readonly ChangePoint[], from: number, zone: string, hours = 168): WeekGrid {
  const days: string[] = [];
  const cells: Array<Array<WeekCell | undefined>> = [];
  const start = Math.floor(from / HOUR_MS) * HOUR_MS;
  for (let t = start; t < start + hours * HOUR_MS; t += HOUR_MS) {
    const { date, hour } = localDateHour(t, zone);
    let d = days.indexOf(date);
    if (d < 0) {
      if (days.length === 7) break;
      days.push(date);
      cells.push(Array.from({ length: 24 }, () => undefined));
      d = days.length - 1;
    }
    const row = cells[d] as Array<WeekCell | undefined>;
    const point = valueAt(points, Math.max(t, from));
    if (row[hour] === undefined && point !== undefined) row[hour] = { value: point.value, reason: point.reason, at: t };
  }
  return { days, cells };
}

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
  const grid = weekGrid(preview.points, Date.parse(preview.from), zone, preview.hours);
  const holidays = holidayNames(preview);
  const shade = (v: number) => (max <= 0 ? 0 : Math.min(4, Math.round((v / max) * 4)));
  return h(
    "div",
    { class: "scroll week", id: "week-view" },
    h(
      "table",
      { class: "week" },
      h("caption", {}, `Desired servers over the next 7 days, by hour, in ${zone}`),
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
              return h("td", { class: `level-${shade(cell.value)}${holidays.has(date) ? " holiday" : ""}`, title: `${utcTitle(new Date(cell.at).toISOString())}: ${cell.reason}`, "data-date": date, "data-hour": hour }, String(cell.value));
            }),
          ),
        ),
      ),
    ),
  );
}
