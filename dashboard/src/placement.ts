// Pure pieces of the many-clouds view: the cloud/region filter (kept in the URL's hash query), its choices from the data, a cloud-region's state word, and /limits as text.
import type { CloudView } from "./types.ts";

/** Where a group or policy runs, as the API names it; region null: the cloud names none. */
export interface Placed {
  cloud: string;
  region: string | null;
}

/** The filter: "" for a part means all. A region the cloud does not name is chosen as NO_REGION. */
export interface PlacementFilter {
  cloud: string;
  region: string;
}

/** The region choice for "the cloud names no region" (a real region name never is a lone dash). */
export const NO_REGION = "-";

/** The rows' cloud when the API does not say (servers from before many clouds had only `default`). */
export const DEFAULT_CLOUD = "default";

export function placedOf(item: { cloud?: string; region?: string | null }): Placed {
  return { cloud: item.cloud ?? DEFAULT_CLOUD, region: item.region ?? null };
}

/** The filter from the hash's query (`#/?cloud=east&region=RegionTwo`); missing or empty parts mean all. */
export function filterFromQuery(query: URLSearchParams): PlacementFilter {
  return { cloud: query.get("cloud")?.trim() ?? "", region: query.get("region")?.trim() ?? "" };
}

/** The overview's hash for a filter: only the parts that are set, so "all" is the plain `#/`. */
export function hashForFilter(filter: PlacementFilter): string {
  const query = new URLSearchParams();
  if (filter.cloud !== "") query.set("cloud", filter.cloud);
  if (filter.region !== "") query.set("region", filter.region);
  const text = query.toString();
  return text === "" ? "#/" : `#/?${text}`;
}

export function regionKey(region: string | null): string {
  return region ?? NO_REGION;
}

export function matchesPlacement(placed: Placed, filter: PlacementFilter): boolean {
  if (filter.cloud !== "" && placed.cloud !== filter.cloud) return false;
  if (filter.region !== "" && regionKey(placed.region) !== filter.region) return false;
  return true;
}

/**
 * The selects' choices, from what the data names (groups, policies and the configured clouds), sorted.
 * Regions are those of the chosen cloud (all clouds' when none is chosen). A chosen value the data does not
 * name stays a choice, so a reload before the data arrives (or a cloud since removed) still shows what is applied.
 */
export function filterChoices(placed: readonly Placed[], filter: PlacementFilter): { clouds: string[]; regions: string[] } {
  const clouds = new Set(placed.map((p) => p.cloud));
  const regions = new Set(placed.filter((p) => filter.cloud === "" || p.cloud === filter.cloud).map((p) => regionKey(p.region)));
  if (filter.cloud !== "") clouds.add(filter.cloud);
  if (filter.region !== "") regions.add(filter.region);
  const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
  return { clouds: sorted(clouds), regions: sorted(regions) };
}

/** How a region reads: its name, or a note that the cloud names none. */
export function regionLabel(region: string | null): string {
  return region ?? "no region named";
}

/**
 * A cloud-region's state in one word: failing (the last tick's listing failed, or its settings cannot be used),
 * ok (the last listing was complete), unknown (no tick has listed it yet). A configuration problem counts as
 * failing even before a tick, since no tick can ever use it.
 */
export function cloudState(view: Pick<CloudView, "state" | "problem">): "ok" | "failing" | "unknown" {
  if (view.state === "down" || view.problem !== undefined) return "failing";
  if (view.state === "up") return "ok";
  return "unknown";
}

/** Failing first, then unknown, then ok; by name and region within each (so a broken cloud tops the panel). */
export function byCloudState(a: CloudView, b: CloudView): number {
  const rank = { failing: 0, unknown: 1, ok: 2 } as const;
  return rank[cloudState(a)] - rank[cloudState(b)] || a.name.localeCompare(b.name) || regionKey(a.region).localeCompare(regionKey(b.region));
}

/** Nova's used/max pairs with a readable name; the unit is shown after the figures. */
const PAIRS: Array<{ label: string; used: string; max: string; unit?: string }> = [
  { label: "instances", used: "totalInstancesUsed", max: "maxTotalInstances" },
  { label: "cores", used: "totalCoresUsed", max: "maxTotalCores" },
  { label: "RAM", used: "totalRAMUsed", max: "maxTotalRAMSize", unit: " MB" },
];

/** /limits as short parts: "instances 3 of 10", "cores 3 of 20", "RAM 1536 of 51200 MB" (null max: unlimited), then any other figure that is set, by its name (an unlimited one says nothing worth a line). */
export function limitsParts(value: Record<string, number | null>): string[] {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const pair of PAIRS) {
    if (!(pair.used in value) && !(pair.max in value)) continue;
    seen.add(pair.used);
    seen.add(pair.max);
    const max = value[pair.max];
    const used = value[pair.used] ?? 0;
    parts.push(`${pair.label} ${used} of ${max === null || max === undefined ? "unlimited" : max}${pair.unit ?? ""}`);
  }
  for (const [key, v] of Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) {
    if (!seen.has(key) && v !== null) parts.push(`${key} ${v}`);
  }
  return parts;
}
