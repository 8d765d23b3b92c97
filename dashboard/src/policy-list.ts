// The overview's snapshot-policy table: every policy with its health, what it selects, its schedule and retention, its last run.
import { call, getEach, policyPath, type Session } from "./api.ts";
import { h } from "./dom.ts";
import { fromNow } from "./format.ts";
import { matchesPlacement, placedOf, regionLabel, type PlacementFilter } from "./placement.ts";
import { retentionText, scheduleText, selectText } from "./policy.ts";
import type { PolicyView } from "./types.ts";
import { dataTable, errorBox, healthBadge } from "./widgets.ts";

export type PolicyRow = { name: string; view?: PolicyView; error?: unknown };

/** Every policy's view (each one Durable Object read, no cloud call), a few at a time. */
export async function loadPolicies(session: Session, parallel: number): Promise<PolicyRow[]> {
  const list = await call<{ policies: { name: string }[] }>(session.token, "GET", "/v1/snapshot-policies");
  const answers = await getEach<PolicyView>(session.token, list.policies.map((p) => policyPath(p.name)), parallel);
  return list.policies.map((p, i): PolicyRow => ({ name: p.name, ...(answers[i]?.value !== undefined ? { view: answers[i].value } : { error: answers[i]?.error }) }));
}

function rowOf(row: PolicyRow): HTMLElement {
  const link = h("a", { href: `#/policies/${encodeURIComponent(row.name)}` }, row.name);
  const p = row.view;
  if (p === undefined) return h("tr", {}, h("th", { scope: "row", "data-label": "policy" }, link), h("td", { colspan: 6, "data-label": "problem" }, errorBox(row.error)));
  const run = p.lastRun;
  const where = placedOf(p);
  return h(
    "tr",
    { "data-policy": row.name, "data-cloud": where.cloud },
    h("th", { scope: "row", "data-label": "policy" }, link),
    h("td", { "data-label": "cloud" }, where.cloud, h("div", { class: "why" }, regionLabel(where.region))),
    h("td", { "data-label": "health" }, p.status === null ? "no run yet" : healthBadge(p.pause !== null ? "paused" : p.status.health)),
    h("td", { "data-label": "selects" }, selectText(p.rules)),
    h("td", { "data-label": "schedule" }, scheduleText(p.rules)),
    h("td", { "data-label": "retention" }, retentionText(p.rules)),
    h("td", { "data-label": "last run" }, run === null ? "none yet" : fromNow(run.lastSeenAt ?? run.at)),
  );
}

/** A policy row passes the cloud/region filter; one whose view could not be read is always shown (its error matters). */
export function policyShown(row: PolicyRow, filter: PlacementFilter): boolean {
  return row.view === undefined || matchesPlacement(placedOf(row.view), filter);
}

/** The table (the rows the filter passes), or a line saying how to make the first policy. */
export function policiesTable(rows: PolicyRow[], filter: PlacementFilter = { cloud: "", region: "" }): HTMLElement {
  if (rows.length === 0) return h("p", {}, "No snapshot policies yet. Create one with PUT /v1/snapshot-policies/{name} (an admin token; see docs/snapshots.md).");
  const shown = rows.filter((r) => policyShown(r, filter));
  const caption = shown.length === rows.length ? `Snapshot policies (${rows.length})` : `Snapshot policies (${shown.length} of ${rows.length} shown)`;
  return dataTable(caption, ["policy", "cloud", "health", "selects", "schedule", "retention", "last run"], shown.map(rowOf), { className: "groups policies", empty: "No policy in the chosen cloud or region." });
}
