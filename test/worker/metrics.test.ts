// GET /metrics end to end: ticks on the fake cloud, then a scrape read by a real Prometheus text parser from npm.
import { exports } from "cloudflare:workers";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { SnapshotPolicyRulesSchema } from "../../src/config/snapshot-policy.ts";
import { IMAGE_SOURCE_SERVER_KEY } from "../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../src/core/snapshots/policy-snapshots.ts";
import { renderMetrics } from "../../src/reconcile/services/metrics.ts";
import { createPolicyService } from "../../src/reconcile/services/policy-service.ts";
import { deleteAllPolicies } from "../support/rules.ts";
import { forgetGroups, rules, world } from "./world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await forgetGroups();
});

async function scrape(token: string | null): Promise<Response> {
  return exports.default.fetch("http://novascale.test/metrics", token === null ? {} : { headers: { Authorization: `Bearer ${token}` } });
}

function sample(families: MetricFamily[], name: string, labels: Record<string, string> = {}): string | undefined {
  const family = families.find((f) => f.name === name);
  return family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
}

describe("GET /metrics", () => {
  it("is Prometheus text a real parser reads: desired, servers by state, boots, tick duration and subrequests", async () => {
    const { tick, service } = await world();
    await service.putGroup("metrics-web", rules({ default: 3 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z");
    const res = await scrape("read-token-for-tests");
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const families = parsePrometheusTextFormat(await res.text());
    expect(sample(families, "novascale_group_desired", { group: "metrics-web" })).toBe("3");
    expect(sample(families, "novascale_group_servers", { group: "metrics-web", state: "ACTIVE" })).toBe("3");
    expect(sample(families, "novascale_group_boots_total", { group: "metrics-web" })).toBe("3");
    expect(families.find((f) => f.name === "novascale_group_boots_total")?.type).toBe("COUNTER");
    expect(Number(sample(families, "novascale_tick_subrequests"))).toBeGreaterThan(0);
    expect(Number(sample(families, "novascale_tick_duration_seconds"))).toBeGreaterThanOrEqual(0);
    expect(sample(families, "novascale_tick_timestamp_seconds")).toBe(String(Date.parse("2026-11-26T08:01:00Z") / 1000));
  });

  it("makes no cloud call: scraping leaves the cloud's request count unchanged", async () => {
    const { tick, service, cloud } = await world();
    await service.putGroup("metrics-quiet", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await cloud.resetStats();
    await scrape("read-token-for-tests");
    expect((await cloud.stats()).total).toBe(0);
  });

  it("gives each member the age of its newest snapshot novascale made (group nightly), labelled group, server id and name", async () => {
    const { tick, service, cloud, members } = await world({ buildMs: 5_000, snapshotMs: 10_000 });
    await service.putGroup("metrics-snap", rules({ default: 1, snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: 3 } }), { author: "alice" });
    await tick("2026-11-27T01:00:00Z");
    await tick("2026-11-27T02:31:00Z"); // createImage
    await tick("2026-11-27T02:32:00Z"); // listed active: the firing is served (later ticks list nothing)
    const [server] = await members("metrics-snap");
    const [image] = (await cloud.images()).filter((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] === server?.id);
    expect(image?.status).toBe("active");
    const created = Date.parse(image!.created) / 1000;
    const before = Date.now() / 1000;
    const families = parsePrometheusTextFormat(await (await scrape("read-token-for-tests")).text());
    const after = Date.now() / 1000;
    const labels = { group: "metrics-snap", server: server!.id, name: server!.name };
    expect(sample(families, "novascale_snapshot_newest_timestamp_seconds", labels)).toBe(String(created));
    const age = Number(sample(families, "novascale_snapshot_age_seconds", labels));
    expect(age).toBeGreaterThanOrEqual(Math.floor(before - created) - 1);
    expect(age).toBeLessThanOrEqual(Math.ceil(after - created) + 1);
  });

  it("reports a policy's snapshots per selected server, and a server deleted since is no longer reported", async () => {
    const { tick, service, cloud, members, workerEnv } = await world({ buildMs: 5_000, snapshotMs: 10_000 });
    await service.putGroup("metrics-pol", rules({ default: 2 }), { author: "alice" });
    const policies = createPolicyService(workerEnv);
    await policies.put("metrics-nightly", SnapshotPolicyRulesSchema.parse({ select: { group: "metrics-pol" }, cron: "0 3 * * *", timezone: "UTC", retention: { keepLast: 2 } }), { author: "alice" });
    await tick("2026-11-27T01:00:00Z");
    await tick("2026-11-27T03:01:00Z");
    await tick("2026-11-27T03:02:00Z");
    const servers = await members("metrics-pol");
    expect(servers).toHaveLength(2);
    const images = (await cloud.images()).filter((i) => i.properties[IMAGE_POLICY_KEY] === "metrics-nightly" && i.status === "active");
    let families = parsePrometheusTextFormat(await (await scrape("read-token-for-tests")).text());
    for (const server of servers) {
      const image = images.find((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] === server.id);
      expect(sample(families, "novascale_snapshot_newest_timestamp_seconds", { group: "metrics-pol", server: server.id, name: server.name })).toBe(String(Date.parse(image!.created) / 1000));
    }
    // Scale in to 1: the policy's next run sees one selected server and stops reporting the other.
    await service.putGroup("metrics-pol", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-27T04:00:00Z");
    await tick("2026-11-27T04:01:00Z");
    const left = await members("metrics-pol");
    expect(left).toHaveLength(1);
    families = parsePrometheusTextFormat(await (await scrape("read-token-for-tests")).text());
    const reported = families.find((f) => f.name === "novascale_snapshot_age_seconds")?.metrics.filter((m) => m.labels?.["group"] === "metrics-pol").map((m) => m.labels?.["server"]);
    expect(reported).toEqual([left[0]!.id]);
  });

  it("needs a token", async () => {
    expect((await scrape(null)).status).toBe(401);
  });
});

describe("renderMetrics", () => {
  it("gives a server snapshotted by its group and by a policy one sample: the newer snapshot, aged at the scrape's time", () => {
    const entry = (imageId: string, created: string) => ({ serverId: "s-1", serverName: "web-1", group: "web", imageId, imageName: imageId, created });
    const now = new Date("2026-11-27T04:00:00Z");
    const text = renderMetrics(
      [{ name: "web", paused: false, counters: { boots: 0, deletes: 0, errors: 0 }, lastTick: null, snapshots: [entry("group-img", "2026-11-27T02:30:00Z")] }],
      null,
      [[entry("policy-img", "2026-11-27T03:00:00Z")]],
      now,
    );
    const families = parsePrometheusTextFormat(text);
    const ages = families.find((f) => f.name === "novascale_snapshot_age_seconds")?.metrics ?? [];
    expect(ages).toHaveLength(1);
    expect(ages[0]?.labels).toEqual({ group: "web", server: "s-1", name: "web-1" });
    expect(ages[0]?.value).toBe("3600");
  });

  it("escapes label values (quotes, backslashes, newlines) so the parser reads them back", () => {
    const text = renderMetrics(
      [
        {
          name: "web",
          paused: false,
          counters: { boots: 0, deletes: 0, errors: 0 },
          lastTick: {
            at: "2026-11-26T08:00:00Z",
            trigger: "cron",
            rulesEtag: '"x"',
            desired: { value: 1, reason: "default", source: "default" },
            actualByStatus: { 'we"ird\\\n': 1 },
            counted: 1,
            listing: "complete",
            steps: [],
            results: [],
            notices: [],
            errors: [],
            health: "steady",
          },
        },
      ],
      null,
    );
    const families = parsePrometheusTextFormat(text);
    expect(families.find((f) => f.name === "novascale_group_servers")?.metrics[0]?.labels?.["state"]).toBe('we"ird\\\n');
  });
});
