// The overview's Clouds panel (GET /v1/clouds): each cloud-region's state, why it fails, token expiry, discovery, limits and what runs there, failing ones first.
import { call, type Session } from "./api.ts";
import { h } from "./dom.ts";
import { fromNow, utcTitle } from "./format.ts";
import { byCloudState, cloudState, limitsParts, regionKey, regionLabel } from "./placement.ts";
import type { CloudsListing, CloudView } from "./types.ts";
import { dataTable, healthBadge } from "./widgets.ts";

/** The cloud-regions as the API lists them (served from the last ticks' records: no cloud call). */
export async function loadClouds(session: Session): Promise<CloudsListing> {
  return call<CloudsListing>(session.token, "GET", "/v1/clouds");
}

/** A time as "in 52 min" with the UTC instant on hover (the panel spans clouds, so no one zone is right). */
function when(iso: string | undefined): HTMLElement | string {
  if (iso === undefined) return "—";
  return h("time", { datetime: iso, title: utcTitle(iso) }, fromNow(iso));
}

/** Why it fails, the operator's first question: a configuration problem, else the last listing's error (kept after a later success, marked as past). */
function trouble(c: CloudView): HTMLElement | string {
  if (c.problem !== undefined) return h("div", { class: "row-error" }, `settings: ${c.problem}`);
  const e = c.lastError;
  if (e === undefined) return "—";
  const past = c.lastSuccessAt !== undefined && Date.parse(c.lastSuccessAt) > Date.parse(e.at);
  return h(
    "div",
    { class: past ? "why" : "row-error" },
    `${e.operation} (${e.category}): ${e.message}`,
    h("div", { class: "why" }, past ? "since recovered; failed " : "failed ", when(e.at)),
  );
}

function discovery(c: CloudView): HTMLElement | string {
  const d = c.discovery;
  const lines = [
    d?.computeMicroversion === undefined ? null : `compute ${d.computeMicroversion}`,
    d?.images === undefined ? null : `images via ${d.images}`,
    d?.fallback === undefined ? null : `fallback: ${d.fallback}`,
    d?.computeEndpoint === undefined ? null : d.computeEndpoint,
    c.authUrl === undefined ? null : `Keystone v${c.identityVersion ?? "3"} ${c.authUrl}`,
  ].filter((l): l is string => l !== null);
  return lines.length === 0 ? "—" : h("div", {}, lines.map((l, i) => h("div", { class: i === 0 ? "" : "why" }, l)));
}

function limits(c: CloudView): HTMLElement | string {
  if (c.limits === undefined) return h("span", { class: "why" }, "not read yet (read when a group boots)");
  return h("div", {}, limitsParts(c.limits.value).map((p) => h("div", {}, p)), h("div", { class: "why" }, "as of ", when(c.limits.at)));
}

function placedHere(c: CloudView): string {
  const parts = [c.groups.length === 0 ? null : `groups: ${c.groups.join(", ")}`, c.policies.length === 0 ? null : `policies: ${c.policies.join(", ")}`].filter((p) => p !== null);
  return parts.length === 0 ? "nothing yet" : parts.join("; ");
}

function rowOf(c: CloudView): HTMLElement {
  const state = cloudState(c);
  return h(
    "tr",
    { "data-cloud": c.name, "data-region": regionKey(c.region), "data-state": state },
    h("th", { scope: "row", "data-label": "cloud" }, c.name, h("div", { class: "why" }, regionLabel(c.region))),
    h(
      "td",
      { "data-label": "state" },
      healthBadge(state),
      h("div", { class: "why" }, c.seenAt === undefined ? "no tick has listed it yet" : h("span", {}, "listed ", when(c.seenAt), c.servers === undefined ? "" : `, ${c.servers} server(s)`)),
    ),
    h("td", { "data-label": "last error" }, trouble(c)),
    h("td", { "data-label": "token expires" }, when(c.tokenExpiresAt)),
    h("td", { "data-label": "discovery" }, discovery(c)),
    h("td", { "data-label": "limits" }, limits(c)),
    h("td", { "data-label": "runs here" }, placedHere(c), c.notes.length === 0 ? null : c.notes.map((n) => h("div", { class: "why" }, n))),
  );
}

/** The panel: a line naming the failing cloud-regions (or saying all are fine), then the table. */
export function cloudsPanel(listing: CloudsListing): HTMLElement {
  const rows = [...listing.clouds].sort(byCloudState);
  const failing = rows.filter((c) => cloudState(c) === "failing");
  const summary =
    failing.length === 0
      ? h("p", { class: "muted", id: "clouds-summary" }, `${rows.length} cloud-region(s); none failing${listing.tickAt === null ? " (no tick yet)" : ""}.`)
      : h("p", { class: "row-error", id: "clouds-summary" }, `Failing: ${failing.map((c) => (c.region === null ? c.name : `${c.name} (${c.region})`)).join(", ")}`);
  return h(
    "div",
    {},
    summary,
    dataTable(`Clouds (${rows.length})`, ["cloud", "state", "last error", "token expires", "discovery", "limits", "runs here"], rows.map(rowOf), { className: "groups clouds", empty: "No cloud configured." }),
  );
}
