// GET /v1/clouds: each configured cloud-region's settings (no secrets) joined with what the last ticks saw of it and the rules placed on it; no cloud call.
import { placementKey, placementOf, type CloudsConfig } from "../../config/clouds.ts";
import type { Env } from "../../config/env.ts";
import type { CloudStatusRecord } from "../../core/records.ts";
import { entriesOf } from "../../store/rules.ts";
import { cloudsOf } from "../gateway/cloud-factory.ts";
import { notifierStub, type TickStats } from "../notify/notifier.ts";
import { loadRules } from "../tick/tick.ts";

/** One cloud-region as GET /v1/clouds shows it. Facts from a tick are as of `seenAt` (the last tick that listed it). */
export interface CloudView {
  name: string;
  /** null: the cloud names no region (the catalog's first endpoint of each service is used). */
  region: string | null;
  source: "NOVASCALE_CLOUDS" | "OS_*" | "rules";
  /** Keystone's URL without user info or query (never a credential). */
  authUrl?: string;
  identityVersion?: "3" | "2.0";
  interface?: string;
  authKind?: string;
  /** Why the cloud cannot be used (names the field, never a value). */
  problem?: string;
  notes: string[];
  /** "up": the last tick's listing was complete; "down": it failed; "unknown": no tick has listed it yet. */
  state: "up" | "down" | "unknown";
  seenAt?: string;
  servers?: number;
  tokenExpiresAt?: string;
  discovery?: { computeEndpoint?: string; imageEndpoint?: string; computeMicroversion?: string; fallback?: string; images?: string };
  limits?: { at: string; value: Record<string, number | null> };
  lastError?: { at: string; operation: string; category: string; message: string };
  lastSuccessAt?: string;
  groups: string[];
  policies: string[];
}

/** An auth URL fit to show: no user:password@, no query or fragment. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return "(not a URL)";
  }
}

interface Placed {
  name: string;
  cloud?: string | undefined;
  region?: string | undefined;
}

/**
 * The view (pure): every configured cloud with each of its regions (one row when it names none), plus any
 * cloud-region a group or policy names that is not configured (so its groups show where they wait), sorted.
 */
export function cloudsView(config: CloudsConfig, seen: readonly CloudStatusRecord[], groups: readonly Placed[], policies: readonly Placed[]): CloudView[] {
  const rows = new Map<string, CloudView>();
  const row = (cloud: string, region: string | null): CloudView => {
    const key = placementKey({ cloud, region: region ?? undefined });
    let view = rows.get(key);
    if (view === undefined) {
      const c = config.clouds.get(cloud);
      const authUrl = c?.settings?.OS_AUTH_URL;
      const problem = c === undefined ? (config.secretProblem ?? `cloud '${cloud}' is not configured`) : c.problem;
      view = {
        name: cloud,
        region,
        source: c?.source ?? "rules",
        ...(authUrl === undefined ? {} : { authUrl: displayUrl(authUrl), identityVersion: /\/v2\.0\/?$/.test(new URL(authUrl).pathname) ? "2.0" : "3" }),
        ...(c?.settings === undefined ? {} : { interface: c.settings.OS_INTERFACE ?? "public" }),
        ...(c?.authKind === undefined ? {} : { authKind: c.authKind }),
        ...(problem === undefined ? {} : { problem }),
        notes: c?.notes ?? [],
        state: "unknown",
        groups: [],
        policies: [],
      };
      rows.set(key, view);
    }
    return view;
  };
  for (const [name, c] of config.clouds) for (const region of c.regions.length > 0 ? c.regions : [null]) row(name, region);
  for (const g of groups) {
    const p = placementOf(config, g);
    row(p.cloud, p.region ?? null).groups.push(g.name);
  }
  for (const item of policies) {
    const p = placementOf(config, item);
    row(p.cloud, p.region ?? null).policies.push(item.name);
  }
  for (const s of seen) {
    const view = rows.get(placementKey({ cloud: s.cloud, region: s.region ?? undefined }));
    if (view === undefined) continue; // a cloud-region no longer configured nor named by any rules
    const discovery = {
      ...(s.computeEndpoint === undefined ? {} : { computeEndpoint: s.computeEndpoint }),
      ...(s.imageEndpoint === undefined ? {} : { imageEndpoint: s.imageEndpoint }),
      ...(s.computeMicroversion === undefined ? {} : { computeMicroversion: s.computeMicroversion }),
      ...(s.discoveryFallback === undefined ? {} : { fallback: s.discoveryFallback }),
      ...(s.images === undefined ? {} : { images: s.images }),
    };
    Object.assign(view, {
      state: s.listing === "complete" ? "up" : "down",
      seenAt: s.at,
      ...(s.servers === undefined ? {} : { servers: s.servers }),
      ...(s.tokenExpiresAt === undefined ? {} : { tokenExpiresAt: s.tokenExpiresAt }),
      ...(Object.keys(discovery).length === 0 ? {} : { discovery }),
      ...(s.limits === undefined ? {} : { limits: s.limits }),
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
      ...(s.lastSuccessAt === undefined ? {} : { lastSuccessAt: s.lastSuccessAt }),
    });
  }
  for (const view of rows.values()) {
    view.groups.sort();
    view.policies.sort();
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Reads the clouds' settings, the last tick's figures (notifier) and the rules index (KV, else the registry): no cloud call. */
export async function readClouds(env: Env): Promise<{ clouds: CloudView[]; tickAt: string | null }> {
  const [stats, index] = await Promise.all([notifierStub(env)?.tickStats() ?? Promise.resolve(null), loadRules(env)]);
  const placed = (kind: "group" | "snapshotPolicy") =>
    entriesOf(index, kind)
      .filter((e) => e.ok)
      .map((e) => {
        const rules = (e as { envelope: { rules: { cloud?: string; region?: string } } }).envelope.rules;
        return { name: e.name, cloud: rules.cloud, region: rules.region };
      });
  const tick = stats as TickStats | null;
  return { clouds: cloudsView(cloudsOf(env), tick?.clouds ?? [], placed("group"), placed("snapshotPolicy")), tickAt: tick?.at ?? null };
}
