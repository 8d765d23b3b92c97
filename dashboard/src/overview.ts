// The overview: every group at a glance (where it runs, desired and why, actual by state, health, override, next change, last tick), filtered (the cloud/region filter kept in the hash), refreshed; then the clouds, the snapshot policies and notifications.
import { call, getEach, groupPath, type Session } from "./api.ts";
import { cloudsPanel, loadClouds } from "./clouds.ts";
import { h, replace } from "./dom.ts";
import { byState, fromNow, timeEl, total } from "./format.ts";
import { groupZone } from "./series.ts";
import { REFRESH_MS, type PageHandle } from "./group.ts";
import { notificationsSection } from "./notifications.ts";
import { cloudState, filterChoices, filterFromQuery, hashForFilter, matchesPlacement, NO_REGION, placedOf, regionKey, regionLabel, type Placed, type PlacementFilter } from "./placement.ts";
import { loadPolicies, policiesTable, type PolicyRow } from "./policy-list.ts";
import { isRefreshing } from "./refresh-state.ts";
import type { CloudsListing, GroupStatus } from "./types.ts";
import { dataTable, errorBox, healthBadge, loading } from "./widgets.ts";

/** Group statuses fetched at once (each is one Durable Object read, no cloud call). */
const PARALLEL = 6;

type Row = { name: string; status?: GroupStatus; error?: unknown };

async function loadRows(session: Session): Promise<Row[]> {
  const list = await call<{ groups: { name: string }[] }>(session.token, "GET", "/v1/groups");
  const answers = await getEach<GroupStatus>(session.token, list.groups.map((g) => groupPath(g.name)), PARALLEL);
  return list.groups.map((g, i): Row => ({ name: g.name, ...(answers[i]?.value !== undefined ? { status: answers[i].value } : { error: answers[i]?.error }) }));
}

/** Worst first: a failing group (or one whose status cannot be read) tops the list. */
const SEVERITY: Record<string, number> = { error: 0, "capacity-limited": 1, converging: 2, unknown: 3, paused: 4, steady: 5 };
export function severityOf(row: Row): number {
  if (row.status === undefined) return -1;
  return SEVERITY[row.status.health] ?? 3;
}
function bySeverity(a: Row, b: Row): number {
  return severityOf(a) - severityOf(b) || a.name.localeCompare(b.name);
}

/** The error a failing group shows on its row: its boot block, else the last tick's first error. */
function rowError(s: GroupStatus): string | null {
  if (s.bootBlock !== null && s.bootBlock !== undefined) return `booting blocked: ${s.bootBlock.reason}`;
  const e = s.lastTick?.errors[0];
  return e === undefined ? null : `${e.operation}: ${e.message}`;
}

function matches(row: Row, text: string, health: string, placement: PlacementFilter): boolean {
  // A group whose status cannot be read shows whatever the cloud filter: where it runs is unknown, and its error matters.
  if (row.status !== undefined && !matchesPlacement(placedOf(row.status), placement)) return false;
  if (health !== "" && row.status?.health !== health) return false;
  if (text === "") return true;
  const hay = [row.name, row.status?.desired.reason, row.status?.override?.reason, row.status?.health].join(" ").toLowerCase();
  return hay.includes(text.toLowerCase());
}

/** The group's cloud and region, and a word when the last tick could not list that cloud-region (its groups act on nothing). */
function whereCell(where: Placed, failing: ReadonlySet<string>): HTMLElement {
  const down = failing.has(`${where.cloud}/${regionKey(where.region)}`);
  return h("td", { "data-label": "cloud" }, where.cloud, h("div", { class: "why" }, regionLabel(where.region)), down ? h("div", { class: "row-error" }, "cloud failing (see Clouds)") : null);
}

function rowOf(row: Row, failing: ReadonlySet<string>): HTMLElement {
  const link = h("a", { href: `#/groups/${encodeURIComponent(row.name)}` }, row.name);
  const s = row.status;
  if (s === undefined) {
    return h("tr", {}, h("th", { scope: "row", "data-label": "group" }, link), h("td", { colspan: 7, "data-label": "problem" }, errorBox(row.error)));
  }
  const where = placedOf(s);
  const tick = s.lastTick;
  const next = s.nextChanges[0];
  const zone = groupZone(s.rules);
  const problem = rowError(s);
  return h(
    "tr",
    { "data-group": row.name, "data-cloud": where.cloud, "data-region": regionKey(where.region) },
    h("th", { scope: "row", "data-label": "group" }, link),
    whereCell(where, failing),
    h("td", { "data-label": "desired" }, h("strong", {}, String(s.desired.value)), h("div", { class: "why" }, s.desired.reason)),
    h("td", { "data-label": "actual" }, h("strong", {}, String(total(s.actualByStatus) ?? "—")), h("div", { class: "why" }, byState(s.actualByStatus))),
    h("td", { "data-label": "health" }, healthBadge(s.health), s.pause === null ? null : h("div", { class: "why" }, `paused by ${s.pause.by}`), isRefreshing(s) ? h("div", { class: "why", "data-refreshing": "" }, "refreshing") : null, problem === null ? null : h("div", { class: "row-error" }, problem)),
    h("td", { "data-label": "override" }, s.override === null ? "—" : h("span", {}, `${s.override.desired} until `, timeEl(s.override.until, zone), h("div", { class: "why" }, `${fromNow(s.override.until)}: ${s.override.reason}`))),
    h("td", { "data-label": "next change" }, next === undefined ? "—" : h("span", {}, `${next.value} ${fromNow(next.at)}`, h("div", { class: "why" }, timeEl(next.at, zone)))),
    h("td", { "data-label": "last tick" }, tick === null ? "none yet" : fromNow(tick.lastSeenAt ?? tick.at)),
  );
}

/** Refills a select with "all" and the given choices, keeping `chosen` selected. */
function fill(select: HTMLSelectElement, all: string, choices: string[], chosen: string, label: (v: string) => string = (v) => v): void {
  // Unchanged choices are left alone: refilling would close a select the operator has open during an auto refresh.
  const now = Array.from(select.options, (o) => o.value);
  if (now.join("\n") !== ["", ...choices].join("\n")) replace(select, h("option", { value: "" }, all), choices.map((v) => h("option", { value: v }, label(v))));
  select.value = chosen;
}

/** `query`: the hash's query (`#/?cloud=east&region=RegionTwo`), so a reload or a link keeps the cloud filter. */
export function overviewPage(root: HTMLElement, session: Session, query: URLSearchParams = new URLSearchParams()): PageHandle {
  let disposed = false;
  let rows: Row[] = [];
  let policies: PolicyRow[] | undefined;
  let clouds: CloudsListing | undefined;
  let placement = filterFromQuery(query);
  const cloudSelect = h("select", { id: "cloud-filter" });
  const regionSelect = h("select", { id: "region-filter" });
  const filter = h("input", { type: "search", id: "filter", placeholder: "name, reason…", autocomplete: "off" });
  const healthSelect = h(
    "select",
    { id: "health-filter" },
    h("option", { value: "" }, "any health"),
    ["steady", "converging", "paused", "capacity-limited", "error", "unknown"].map((v) => h("option", { value: v }, v)),
  );
  const auto = h("input", { type: "checkbox", id: "overview-auto", checked: true });
  const updated = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const body = h("div", {}, loading("groups"));
  const policiesBody = h("div", { id: "policies" }, loading("snapshot policies"));
  const cloudsBody = h("div", { id: "clouds" }, loading("clouds"));
  const notifyBody = h("div", { id: "notifications" }, loading("notifications"));
  const loadNotifications = notificationsSection(notifyBody, session);

  /** The selects' choices from everything that names a cloud-region: groups, policies and the configured clouds. */
  const fillChoices = () => {
    const placed: Placed[] = [
      ...rows.flatMap((r) => (r.status === undefined ? [] : [placedOf(r.status)])),
      ...(policies ?? []).flatMap((p) => (p.view === undefined ? [] : [placedOf(p.view)])),
      ...(clouds?.clouds ?? []).map((c) => ({ cloud: c.name, region: c.region })),
    ];
    const choices = filterChoices(placed, placement);
    fill(cloudSelect, "all clouds", choices.clouds, placement.cloud);
    fill(regionSelect, "all regions", choices.regions, placement.region, (v) => (v === NO_REGION ? "no region named" : v));
  };

  /** Cloud-regions the last tick could not list (or cannot use), as "cloud/region" keys. */
  const failingKeys = (): Set<string> => new Set((clouds?.clouds ?? []).filter((c) => cloudState(c) === "failing").map((c) => `${c.name}/${regionKey(c.region)}`));

  const render = () => {
    fillChoices();
    if (policies !== undefined) replace(policiesBody, policiesTable(policies, placement));
    const shown = rows.filter((r) => matches(r, filter.value.trim(), healthSelect.value, placement)).sort(bySeverity);
    if (rows.length === 0) {
      replace(body, h("p", {}, session.role === "admin" ? "No groups yet: create one with New group." : "No groups yet (an admin creates them)."));
      return;
    }
    const columns = ["group", "cloud", "desired", "actual", "health", "override", "next change", "last tick"];
    const failing = failingKeys();
    replace(body, dataTable(`Groups (${shown.length} of ${rows.length} shown)`, columns, shown.map((r) => rowOf(r, failing)), { empty: "No group matches the filter.", className: "groups" }));
  };

  /** A new cloud/region choice: kept in the hash without a hashchange (which would rebuild the page), then shown. */
  const choose = () => {
    const cloudChanged = cloudSelect.value !== placement.cloud;
    // Another cloud's regions are other regions: a region choice does not carry over.
    placement = { cloud: cloudSelect.value, region: cloudChanged ? "" : regionSelect.value };
    history.replaceState(history.state, "", hashForFilter(placement));
    render();
  };

  const refreshPolicies = async () => {
    try {
      policies = await loadPolicies(session, PARALLEL);
      if (!disposed) render();
    } catch (e) {
      if (!disposed) replace(policiesBody, errorBox(e));
    }
  };

  const refreshClouds = async () => {
    try {
      clouds = await loadClouds(session);
      if (disposed) return;
      replace(cloudsBody, cloudsPanel(clouds));
      render();
    } catch (e) {
      if (!disposed) replace(cloudsBody, errorBox(e));
    }
  };

  const refresh = async () => {
    void refreshPolicies();
    void refreshClouds();
    try {
      rows = await loadRows(session);
      if (disposed) return;
      render();
      replace(updated, `${rows.length} group(s); updated ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      if (!disposed) replace(body, errorBox(e));
    }
  };
  filter.addEventListener("input", render);
  healthSelect.addEventListener("change", render);
  cloudSelect.addEventListener("change", choose);
  regionSelect.addEventListener("change", choose);
  fillChoices();

  replace(
    root,
    h("h1", {}, "Groups"),
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: filter.id }, "Filter"),
      filter,
      h("label", { for: healthSelect.id }, "Health"),
      healthSelect,
      h("label", { for: cloudSelect.id }, "Cloud"),
      cloudSelect,
      h("label", { for: regionSelect.id }, "Region"),
      regionSelect,
      h("label", { for: auto.id }, auto, " Auto refresh"),
      h("button", { type: "button", class: "secondary", onclick: () => void refresh() }, "Refresh"),
      session.role === "admin" ? h("a", { href: "#/new", class: "button-link", id: "new-group" }, "New group") : null,
    ),
    updated,
    body,
    h("h2", {}, "Clouds"),
    cloudsBody,
    h("h2", {}, "Snapshot policies"),
    policiesBody,
    h("h2", {}, "Notifications"),
    notifyBody,
  );
  void loadNotifications();
  document.title = "novascale";
  void refresh();
  const timer = window.setInterval(() => {
    if (auto.checked && document.visibilityState === "visible") void refresh();
  }, REFRESH_MS);
  return {
    dispose() {
      disposed = true;
      window.clearInterval(timer);
    },
  };
}
