// What a group is told to do and has: the Rules section (entries with next occurrences, holidays, limits, image/flavor ids), the members table, server-hours.
import { h } from "./dom.ts";
import { fromNow, timeEl } from "./format.ts";
import { imageAge } from "./refresh-state.ts";
import type { Member, MembersListing, Resolved, RulesPreview, ServerHours, SnapshotListing } from "./types.ts";
import { weekTable } from "./week.ts";
import { dataTable, errorBox, facts, plain } from "./widgets.ts";

type Rules = Record<string, unknown>;
type Entry = Record<string, unknown>;

/** A rules reference (name or { id }) with what it resolves to now. */
function refWithId(ref: unknown, resolved: Resolved | undefined): HTMLElement {
  const asked = typeof ref === "string" ? ref : typeof ref === "object" && ref !== null ? `id ${String((ref as { id?: unknown }).id)}` : "—";
  if (resolved === undefined) return h("span", {}, asked, h("span", { class: "muted" }, " (resolving…)"));
  if (resolved === null) return h("span", {}, asked);
  if ("error" in resolved) return h("span", {}, asked, " ", h("span", { class: "error-text" }, `does not resolve: ${resolved.error.message}`));
  return h("span", {}, asked, " → ", h("code", { "data-field": "resolved-id" }, resolved.id), resolved.name !== asked ? ` (${resolved.name})` : "");
}

/** The rules' flavor: one, or a list in order of preference, each with what it resolves to. */
function flavorRefs(ref: unknown, resolved: MembersListing | undefined): HTMLElement {
  if (!Array.isArray(ref)) return refWithId(ref, resolved === undefined ? undefined : resolved.flavor);
  const parts = ref.map((r, i) => refWithId(r, resolved === undefined ? undefined : (resolved.flavors?.[i] ?? null)));
  return h("span", { "data-field": "flavors" }, ...parts.flatMap((p, i) => (i === 0 ? [p] : [h("span", { class: "muted" }, ", then "), p])), h("span", { class: "muted" }, " (in order of preference)"));
}

function entryLabel(e: Entry, i: number): string {
  const name = typeof e["name"] === "string" ? ` '${e["name"]}'` : "";
  if (typeof e["window"] === "string") return `window${name}: ${e["window"]} (${String(e["timezone"] ?? "UTC")})`;
  if (typeof e["cron"] === "string") return `cron${name}: ${e["cron"]} (${String(e["timezone"] ?? "UTC")})`;
  return `one-shot${name || ` #${i + 1}`}: at ${String(e["at"])}`;
}

function occurrencesList(next: { at: string; until?: string }[], zone: string): HTMLElement {
  if (next.length === 0) return h("span", { class: "muted" }, "never again");
  return h(
    "ul",
    { class: "occurrences" },
    next.map((o) => h("li", {}, timeEl(o.at, zone), o.until === undefined ? null : h("span", {}, " – ", timeEl(o.until, zone)))),
  );
}

/** The Rules section: everything the group is told to do, with what comes next. */
export function rulesCard(rules: Rules, preview: RulesPreview | Error | undefined, members: MembersListing | Error | undefined, zone: string): HTMLElement {
  const schedules = (rules["schedules"] as Entry[] | undefined) ?? [];
  const exceptions = (rules["exceptions"] as Entry[] | undefined) ?? [];
  const occ = preview instanceof Error || preview === undefined ? undefined : preview.occurrences;
  const resolved = members instanceof Error || members === undefined ? undefined : members;
  const limits = (rules["limits"] ?? {}) as Record<string, unknown>;
  const scaleIn = (rules["scaleIn"] ?? {}) as Record<string, unknown>;
  const snapshots = rules["snapshots"] as Record<string, unknown> | undefined;
  const max = Number(rules["max"] ?? 0);
  return h(
    "section",
    { class: "card", id: "rules", "aria-labelledby": "rules-title" },
    h("h2", { id: "rules-title" }, "Rules"),
    facts([
      ["Mode", plain(rules["mode"] ?? "elastic")],
      ["Min / max / default", h("span", { "data-field": "bounds" }, `${plain(rules["min"] ?? 0)} / ${plain(rules["max"])} / ${rules["default"] === undefined ? "none (min)" : plain(rules["default"])}`)],
      ["Image", rules["image"] === undefined ? null : refWithId(rules["image"], resolved === undefined ? undefined : resolved.image)],
      ["Flavor", rules["flavor"] === undefined ? null : flavorRefs(rules["flavor"], resolved)],
      ["Networks", plain(rules["networks"])],
      ["Scale-in", `${plain(scaleIn["order"] ?? "oldest-first")}, by ${plain(scaleIn["action"] ?? (rules["mode"] === "power" ? "stop" : "delete"))}`],
      ["Parking pool", rules["pool"] === undefined ? null : plain(rules["pool"])],
      ["Limits", `${plain(limits["maxBootsPerTick"])} boots and ${plain(limits["maxDeletesPerTick"])} deletes per tick; build timeout ${plain(limits["buildTimeoutMinutes"])} min`],
      ["Snapshots", snapshots === undefined ? "none" : `${plain(snapshots["cron"])} (${plain(snapshots["timezone"] ?? "UTC")}), keep ${plain(snapshots["keepLast"] ?? snapshots["keep"] ?? "by calendar")}`],
      ["Paused by rules", rules["paused"] === true ? "yes" : null],
    ]),
    h("h3", {}, `Schedule entries (${schedules.length})`),
    schedules.length === 0
      ? h("p", { class: "muted" }, "None: the default applies.")
      : dataTable(
          "Schedule entries and their next occurrences",
          ["entry", "desired", "next"],
          schedules.map((e, i) =>
            h(
              "tr",
              { "data-entry": i },
              h("td", { "data-label": "entry" }, entryLabel(e, i)),
              h("td", { "data-label": "desired" }, plain(e["desired"])),
              h("td", { "data-label": "next" }, occ === undefined ? "—" : occurrencesList(occ.schedules[i]?.next ?? [], zone)),
            ),
          ),
          { className: "entries" },
        ),
    h("h3", {}, `Exceptions (${exceptions.length})`),
    exceptions.length === 0
      ? h("p", { class: "muted" }, "None.")
      : dataTable(
          "Exceptions and their next days",
          ["exception", "desired", "next days"],
          exceptions.map((e, i) =>
            h(
              "tr",
              { "data-exception": i },
              h("td", { "data-label": "exception" }, `${plain(e["name"])} (${plain(e["timezone"] ?? "UTC")})`),
              h("td", { "data-label": "desired" }, plain(e["desired"])),
              h(
                "td",
                { "data-label": "next days" },
                occ === undefined
                  ? "—"
                  : (occ.exceptions[i]?.next.length ?? 0) === 0
                    ? h("span", { class: "muted" }, "none in the coming year")
                    : h("ul", { class: "occurrences" }, (occ.exceptions[i]?.next ?? []).map((d) => h("li", {}, `${d.date}: ${d.names.join(", ")}`))),
              ),
            ),
          ),
          { className: "entries" },
        ),
    h("h3", {}, "Week view"),
    preview === undefined ? h("p", { class: "muted" }, "Loading the week…") : preview instanceof Error ? errorBox(preview) : weekTable(preview, zone, max),
    h("p", { class: "muted" }, `The rules alone (no override or pause), in ${zone}; hover a cell for its UTC hour and reason.`),
  );
}

/** Newest snapshot per server id, from the group's snapshot listing. */
function newestSnapshots(snapshots: SnapshotListing | undefined): Map<string, { name: string; created: string; status: string }> {
  const out = new Map<string, { name: string; created: string; status: string }>();
  const list = (snapshots?.["snapshots"] ?? []) as { sourceServer?: string | null; name: string; created: string; status: string }[];
  for (const s of list) {
    if (typeof s.sourceServer !== "string") continue;
    const known = out.get(s.sourceServer);
    if (known === undefined || Date.parse(s.created) > Date.parse(known.created)) out.set(s.sourceServer, s);
  }
  return out;
}

/** A member's image id, marked old or new against the refresh's target (`target` null: no mark). */
function imageCell(imageId: string | null, target: string | null): HTMLElement {
  const age = imageAge(imageId, target);
  return h(
    "td",
    { "data-label": "image", ...(age === null ? {} : { "data-image": age }) },
    imageId === null ? "—" : h("code", { class: "mono" }, imageId),
    age === null ? null : h("div", { class: "why" }, age === "new" ? "new: the refresh's target" : "old: not the target"),
  );
}

function memberRow(m: Member, zone: string, newest: Map<string, { name: string; created: string; status: string }>, target: string | null): HTMLElement {
  const snap = newest.get(m.id);
  return h(
    "tr",
    { "data-server": m.id },
    h("td", { "data-label": "name" }, m.link === null ? m.name : h("a", { href: m.link, rel: "noopener noreferrer", target: "_blank" }, m.name), h("div", { class: "why mono" }, m.id)),
    h("td", { "data-label": "status" }, h("span", { class: `badge status-${m.status.toLowerCase()}` }, m.status), m.fault === null ? null : h("div", { class: "why" }, m.fault)),
    imageCell(m.imageId, target),
    h("td", { "data-label": "flavor" }, m.flavor ?? "—", m.flavorWhy === "preferred" || m.flavorWhy === "unknown" ? null : h("div", { class: "why" }, m.flavorReason)),
    h("td", { "data-label": "task" }, m.taskState ?? "—"),
    h("td", { "data-label": "age" }, m.created === "" ? "—" : h("span", {}, fromNow(m.created).replace(/ ago$/, ""), h("div", { class: "why" }, timeEl(m.created, zone)))),
    h("td", { "data-label": "addresses" }, m.addresses.length === 0 ? "—" : m.addresses.join(", ")),
    h("td", { "data-label": "parked since" }, m.parkedSince === null ? "—" : timeEl(m.parkedSince, zone)),
    h("td", { "data-label": "protected" }, m.protected ? "yes" : "no"),
    h("td", { "data-label": "newest snapshot" }, snap === undefined ? "—" : h("span", {}, snap.name, h("div", { class: "why" }, snap.status, " ", timeEl(snap.created, zone)))),
  );
}

/**
 * The Members section body: every server of the group as listed just now. `refreshTarget`: the image id a
 * rolling refresh measures members against (each is marked old or new); null: no marks.
 */
export function membersBody(listing: MembersListing, zone: string, snapshots: SnapshotListing | undefined, refreshTarget: string | null = null): HTMLElement {
  if (listing.servers === null) return h("div", {}, errorBox(new Error(`the servers could not be listed: ${listing.error?.message ?? "unknown error"}`)));
  const newest = newestSnapshots(snapshots);
  return h(
    "div",
    {},
    h("p", { class: "muted" }, `${listing.servers.length} server(s), listed `, timeEl(listing.listedAt, zone), "."),
    dataTable(
      "Members",
      ["name", "status", "image", "flavor", "task", "age", "addresses", "parked since", "protected", "newest snapshot"],
      listing.servers.map((m) => memberRow(m, zone, newest, refreshTarget)),
      { empty: "No servers carry the group's tag.", className: "members" },
    ),
  );
}

/** Server-hours run and saved over 7 and 30 days. */
export function serverHoursBody(s: ServerHours): HTMLElement {
  const span = (label: string, x: ServerHours["last7Days"]) => h("tr", { "data-span": label }, h("th", { scope: "row" }, label), h("td", { "data-label": "run" }, String(x.run)), h("td", { "data-label": "saved" }, String(x.saved)), h("td", { "data-label": "covered" }, `${x.coveredHours} h`));
  return h(
    "div",
    {},
    h("div", { class: "scroll" }, h("table", { class: "hours" }, h("caption", { class: "visually-hidden" }, "Server-hours"), h("thead", {}, h("tr", {}, ["span", "run", `saved (vs ${s.max} all day)`, "history covers"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, span("7 days", s.last7Days), span("30 days", s.last30Days)))),
    h("p", { class: "muted" }, `From the group's recorded history (a point per change, kept 31 days): run counts servers in a running state; saved is max (${s.max}) × the hours covered − run.`),
  );
}
