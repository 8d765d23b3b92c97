// Formatting for people: instants in a given IANA zone, "in 3 min" / "2 h ago", servers by state.

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The one time format: "Mon 30 Nov, 14:05 CET" in `zone` (the group's zone on its page, the browser's on the overview). */
export function formatTime(iso: string | null | undefined, zone?: string): string {
  if (iso === null || iso === undefined) return "—";
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const key = zone ?? "";
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(undefined, {
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      ...(zone === undefined ? {} : { timeZone: zone, timeZoneName: "short" }),
    });
    formatters.set(key, f);
  }
  return f.format(ms);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** "in 3 min", "2 hr. ago"; `now` is the page's clock. */
export function fromNow(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return "";
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return "";
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3_600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400 * 2) return relative.format(Math.round(seconds / 3_600), "hour");
  return relative.format(Math.round(seconds / 86_400), "day");
}

/** Servers by state as "3 ACTIVE, 1 BUILD" (every state by its name, whatever the API reports). */
export function byState(actual: Record<string, number> | null | undefined): string {
  if (actual === null || actual === undefined) return "not yet listed";
  const parts = Object.entries(actual)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (a === "ACTIVE" ? -1 : b === "ACTIVE" ? 1 : a.localeCompare(b)))
    .map(([state, n]) => `${n} ${state}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

export function total(actual: Record<string, number> | null | undefined): number | null {
  if (actual === null || actual === undefined) return null;
  return Object.values(actual).reduce((a, n) => a + n, 0);
}

/** The UTC instant, for the hover title of every shown time. */
export function utcTitle(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC` : iso;
}

/** A time as a <time> element: the one format in `zone`, the UTC instant on hover (title) and in `datetime`. */
export function timeEl(iso: string | null | undefined, zone: string): HTMLElement {
  const el = document.createElement("time");
  el.textContent = formatTime(iso, zone);
  if (iso !== null && iso !== undefined) {
    el.setAttribute("datetime", iso);
    el.title = utcTitle(iso);
  }
  return el;
}
