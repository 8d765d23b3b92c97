// `npm run bench:policies`: what one run of a snapshot policy costs in the core (plan + retention per server), by selected servers and history length.
// Prints figures; asserts nothing. Pure core in Node (no cloud): the policy object's CPU per run is this plus parsing the listings.
// `-- --src DIR` measures another checkout's src/ (e.g. /work/main/src) for a before/after.
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import type * as PolicyCore from "../../src/core/snapshots/policy-snapshots.ts";
import type * as Retention from "../../src/core/snapshots/retention.ts";
import type * as PolicyConfig from "../../src/config/snapshot-policy.ts";
import type { ObservedImage, ObservedServer } from "../../src/core/model/types.ts";

const { values } = parseArgs({ options: { runs: { type: "string" }, src: { type: "string" } } });
const runs = Number(values.runs ?? 20);
const src = values.src ?? new URL("../../src", import.meta.url).pathname;
// core/ is foldered by subject since issue 25; an older checkout keeps the same file flat in core/.
const coreModule = (path: string): string => (existsSync(`${src}/core/${path}`) ? `${src}/core/${path}` : `${src}/core/${path.split("/").pop()}`);
const { SnapshotPolicyRulesSchema } = (await import(`${src}/config/snapshot-policy.ts`)) as typeof PolicyConfig;
const { planPolicySnapshots, policySnapshotProperties } = (await import(coreModule("snapshots/policy-snapshots.ts"))) as typeof PolicyCore;
const { retentionGuard } = (await import(coreModule("snapshots/retention.ts"))) as typeof Retention;
const DAY = 86_400_000;
const NOW = Date.parse("2026-11-29T01:36:00Z");
const rules = SnapshotPolicyRulesSchema.parse({
  select: { metadata: { backup: "nightly" } },
  cron: "30 1 * * *",
  timezone: "Europe/Berlin",
  retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
  maxConcurrent: 5,
});

function world(servers: number, nights: number): { servers: ObservedServer[]; images: ObservedImage[] } {
  const list: ObservedServer[] = Array.from({ length: servers }, (_, i) => ({
    id: `srv-${i}`,
    name: `pet-${i}`,
    status: "ACTIVE",
    taskState: null,
    created: "2025-01-01T00:00:00Z",
    metadata: { backup: "nightly" },
    imageId: "base",
  }));
  const images: ObservedImage[] = [];
  for (const s of list) {
    for (let n = 0; n < nights; n++) {
      const firing = new Date(Date.parse("2026-11-29T00:30:00Z") - n * DAY).toISOString(); // 01:30 in Berlin
      images.push({ id: `${s.id}-${n}`, name: `pets-${s.name}-${n}`, status: "active", created: firing, properties: policySnapshotProperties("pets", s.id, firing) });
    }
  }
  return { servers: list, images };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`${src}: snapshot policy plan (planPolicySnapshots, keepDaily 7 / keepWeekly 4 / keepMonthly 12, Europe/Berlin), median of ${runs} runs`);
console.log("| selected servers | snapshots per server | images decided | ms per run | deletes planned |");
console.log("|---:|---:|---:|---:|---:|");
for (const servers of [2, 10, 50, 200]) {
  for (const nights of [9, 30, 90]) {
    const w = world(servers, nights);
    const guard = retentionGuard([], w.servers);
    const times: number[] = [];
    let deletes = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const plan = planPolicySnapshots({ name: "pets", rules, servers: w.servers, images: w.images, now: new Date(NOW), guard });
      times.push(performance.now() - t0);
      deletes = plan.steps.filter((s) => s.kind === "deleteImage").length;
    }
    console.log(`| ${servers} | ${nights} | ${w.images.length} | ${median(times).toFixed(2)} | ${deletes} |`);
  }
}
console.log(
  "Subrequests per policy per tick: none once its latest firing is settled; otherwise 1 Glance listing (its own images, by property filter; " +
    "more pages past 1,000 images) + 1 per createImage (at most maxConcurrent in flight) + 1 per deleteImage (at most 10).",
);
