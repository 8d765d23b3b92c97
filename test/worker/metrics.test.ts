// GET /metrics end to end: ticks on the fake cloud, then a scrape read by a real Prometheus text parser from npm.
import { exports } from "cloudflare:workers";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { renderMetrics } from "../../src/reconcile/services/metrics.ts";
import { forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);

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

  it("needs a token", async () => {
    expect((await scrape(null)).status).toBe(401);
  });
});

describe("renderMetrics", () => {
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
