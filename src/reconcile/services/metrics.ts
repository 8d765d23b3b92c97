// GET /metrics: Prometheus text exposition (format 0.0.4) from what the last ticks stored; never a cloud call on scrape.
import type { Env } from "../../config/env.ts";
import type { TickRecord } from "../../core/records.ts";
import { coordinatorStub } from "../groups/coordinator.ts";
import type { GroupCounters } from "../groups/coordinator-notify.ts";
import { notifierStub, type TickStats } from "../notify/notifier.ts";
import { registryStub } from "../registry/registry.ts";
import { policyStub } from "../policies/policy-coordinator.ts";
import { mergeNewest, type NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import { placementOf } from "../../config/clouds.ts";
import { entriesOf } from "../../store/rules.ts";
import { cloudsOf } from "../gateway/cloud-factory.ts";
import { loadRules } from "../tick/tick.ts";

export interface GroupMetrics {
  name: string;
  /** Where it runs (labels `cloud`, `region`; region "" when the cloud names none). Absent: `default`, "". */
  cloud?: string;
  region?: string;
  lastTick: TickRecord | null;
  counters: GroupCounters;
  paused: boolean;
  /** The members' newest snapshots by the group's own nightly policy (and manual ones), as the ticks stored them. */
  snapshots?: NewestSnapshot[];
}

/** Group objects read at once (each is one Durable Object storage read). */
const PARALLEL = 6;

const HEALTHS = ["steady", "converging", "paused", "capacity-limited", "error", "unknown"] as const;

/** A label value escaped as the exposition format wants (backslash, quote, newline). */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** One metric family: HELP, TYPE and its samples (skipped when it has none). */
function family(name: string, type: "gauge" | "counter", help: string, samples: Array<[Record<string, string>, number]>): string[] {
  if (samples.length === 0) return [];
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${label(v)}"`)
      .join(",");
    lines.push(`${name}${text === "" ? "" : `{${text}}`} ${Number.isFinite(value) ? value : "NaN"}`);
  }
  return lines;
}

/**
 * The exposition text (pure): per group from its last tick record and counters, per tick from the tick's figures,
 * per server its newest snapshot (groups' and policies' lists merged, the newest wins) aged at `now`.
 */
export function renderMetrics(groups: readonly GroupMetrics[], tick: TickStats | null, policySnapshots: ReadonlyArray<readonly NewestSnapshot[]> = [], now: Date = new Date(0)): string {
  const withTick = groups.filter((g) => g.lastTick !== null) as Array<GroupMetrics & { lastTick: TickRecord }>;
  const seconds = (iso: string) => Date.parse(iso) / 1000;
  const at = (g: GroupMetrics): Record<string, string> => ({ group: g.name, cloud: g.cloud ?? "default", region: g.region ?? "" });
  const clouds = tick?.clouds ?? [];
  const where = (c: { cloud: string; region: string | null }) => ({ cloud: c.cloud, region: c.region ?? "" });
  const lines = [
    ...family("novascale_groups", "gauge", "Groups in the rules.", [[{}, groups.length]]),
    ...family("novascale_group_desired", "gauge", "Desired servers as of the group's last tick.", withTick.map((g) => [at(g), g.lastTick.desired.value])),
    ...family(
      "novascale_group_servers",
      "gauge",
      "The group's servers by Nova status, as listed by its last tick.",
      withTick.flatMap((g) => Object.entries(g.lastTick.actualByStatus).map(([state, n]): [Record<string, string>, number] => [{ ...at(g), state }, n])),
    ),
    ...family("novascale_group_counted", "gauge", "Servers counting toward capacity at the last tick.", withTick.map((g) => [at(g), g.lastTick.counted])),
    ...family("novascale_group_parked", "gauge", "Servers the group has parked (stopped or shelved by it).", withTick.map((g) => [at(g), g.lastTick.parked ?? 0])),
    ...family(
      "novascale_group_health",
      "gauge",
      "1 for the group's health at its last tick, 0 for the others.",
      groups.flatMap((g) => HEALTHS.map((h): [Record<string, string>, number] => [{ ...at(g), health: h }, (g.lastTick?.health ?? "unknown") === h ? 1 : 0])),
    ),
    ...family("novascale_group_paused", "gauge", "1 while an operator pause is in force.", groups.map((g) => [at(g), g.paused ? 1 : 0])),
    ...family("novascale_group_boots_total", "counter", "Servers booted (accepted by Nova).", groups.map((g) => [at(g), g.counters.boots])),
    ...family("novascale_group_deletes_total", "counter", "Servers deleted.", groups.map((g) => [at(g), g.counters.deletes])),
    ...family("novascale_group_errors_total", "counter", "Errors recorded by the group's reconciles (one per error per reconcile).", groups.map((g) => [at(g), g.counters.errors])),
    ...family("novascale_group_last_errors", "gauge", "Errors in the group's last tick record.", withTick.map((g) => [at(g), g.lastTick.errors.length])),
    ...family(
      "novascale_group_last_tick_timestamp_seconds",
      "gauge",
      "When the group's last tick ran (a repeated outcome counts as run).",
      withTick.map((g) => [at(g), seconds(g.lastTick.lastSeenAt ?? g.lastTick.at)]),
    ),
  ];
  const newest = mergeNewest([...groups.map((g) => g.snapshots ?? []), ...policySnapshots]);
  const serverLabels = (n: NewestSnapshot) => ({ group: n.group, server: n.serverId, name: n.serverName });
  lines.push(
    ...family(
      "novascale_snapshot_age_seconds",
      "gauge",
      "Age at scrape time of the server's newest active snapshot novascale made (group nightly, manual or policy), as of the last image listing.",
      newest.map((n) => [serverLabels(n), Math.max(0, Math.round((now.getTime() - Date.parse(n.created)) / 1000))]),
    ),
    ...family(
      "novascale_snapshot_newest_timestamp_seconds",
      "gauge",
      "Creation time of the server's newest active snapshot novascale made.",
      newest.map((n) => [serverLabels(n), Date.parse(n.created) / 1000]),
    ),
  );
  if (tick !== null) {
    lines.push(
      ...family("novascale_tick_timestamp_seconds", "gauge", "The last cron tick's scheduled time.", [[{}, seconds(tick.at)]]),
      ...family("novascale_tick_duration_seconds", "gauge", "Wall time of the last cron tick.", [[{}, tick.durationMs / 1000]]),
      ...family("novascale_tick_subrequests", "gauge", "Cloud subrequests the last cron tick sent.", [[{}, tick.subrequests]]),
      ...family("novascale_tick_subrequest_budget", "gauge", "The tick's subrequest budget (NOVASCALE_SUBREQUEST_BUDGET).", [[{}, tick.subrequestLimit]]),
      ...family("novascale_tick_deferred", "gauge", "Groups and policies the last tick left for the next.", [[{}, tick.deferred]]),
      ...family("novascale_tick_listing_ok", "gauge", "1 when the last tick's server listing was complete.", [[{}, tick.listing === "complete" ? 1 : 0]]),
      // Per cloud-region, as the last tick saw it (the last error and success outlive ticks that did not see them).
      ...family("novascale_cloud_up", "gauge", "1 when the last tick's listing of the cloud-region was complete.", clouds.map((c) => [where(c), c.listing === "complete" ? 1 : 0])),
      ...family("novascale_cloud_servers", "gauge", "Servers in the cloud-region's last complete listing (members or not).", clouds.filter((c) => c.servers !== undefined).map((c) => [where(c), c.servers ?? 0])),
      ...family(
        "novascale_cloud_token_expiry_seconds",
        "gauge",
        "When the cloud's cached token stops being used (Unix time), as of the last tick.",
        clouds.filter((c) => c.tokenExpiresAt !== undefined).map((c) => [where(c), seconds(c.tokenExpiresAt ?? "")]),
      ),
      ...family("novascale_cloud_last_error_timestamp_seconds", "gauge", "When a tick's listing of the cloud-region last failed.", clouds.filter((c) => c.lastError !== undefined).map((c) => [where(c), seconds(c.lastError?.at ?? "")])),
      ...family("novascale_cloud_last_success_timestamp_seconds", "gauge", "When a tick's listing of the cloud-region was last complete.", clouds.filter((c) => c.lastSuccessAt !== undefined).map((c) => [where(c), seconds(c.lastSuccessAt ?? "")])),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Reads every group's stored metrics and the last tick's figures (registry, group objects, notifier: no cloud). */
export async function collectMetrics(env: Env): Promise<string> {
  const [names, index] = await Promise.all([registryStub(env).list("group").then((list) => list.map((g) => g.name)), loadRules(env)]);
  // Placement from the rules index the tick reads (KV): a group written seconds ago may show `default` until it arrives.
  const config = cloudsOf(env);
  const placed = new Map(
    entriesOf(index, "group").flatMap((e) => {
      if (!e.ok) return [];
      const p = placementOf(config, e.envelope.rules);
      return [[e.name, { cloud: p.cloud, region: p.region ?? "" }] as const];
    }),
  );
  const groups: GroupMetrics[] = [];
  for (let i = 0; i < names.length; i += PARALLEL) {
    const slice = names.slice(i, i + PARALLEL);
    const answers = await Promise.all(slice.map(async (name) => ({ name, ...placed.get(name), ...(await coordinatorStub(env, name).metrics()) }) as GroupMetrics));
    groups.push(...answers);
  }
  // One storage read per snapshot policy (its selected servers' newest snapshots), never a Glance listing.
  const policies = (await registryStub(env).list("snapshotPolicy")).map((p) => p.name);
  const policySnapshots: NewestSnapshot[][] = [];
  for (let i = 0; i < policies.length; i += PARALLEL) {
    policySnapshots.push(...(await Promise.all(policies.slice(i, i + PARALLEL).map((name) => policyStub(env, name).newestSnapshots() as Promise<NewestSnapshot[]>))));
  }
  const tick = (await notifierStub(env)?.tickStats()) ?? null;
  return renderMetrics(groups, tick as TickStats | null, policySnapshots, new Date());
}
