// `npm run bench -- --only reads`: what GET /v1/groups/{name} (status) and its /timeline cost over HTTP, by schedule shape (issue 24's last line).
import { cloudBindings, cloudOptions, FLAVOR, IMAGE, seedServers } from "./fake-grid.ts";
import { launchFakeCloud } from "./fake-cloud-handle.ts";
import { BENCH_ADMIN_TOKEN, startBenchWorker } from "./worker-runner.ts";

const MINUTE = 60_000;
const GROUP_KEY = "novascale:group";

export interface ReadCase {
  name: string;
  schedules: Array<Record<string, unknown>>;
}

/** The issue's two shapes, plus the one the rules parse used to be slowest for (a zone other than UTC). */
export const READ_CASES: readonly ReadCase[] = [
  { name: "one daily entry", schedules: [{ cron: "0 8 * * *", timezone: "UTC", desired: 2, name: "day" }] },
  { name: "50 x `* * * * *` (UTC, values 0..49)", schedules: Array.from({ length: 50 }, (_, i) => ({ cron: "* * * * *", timezone: "UTC", desired: i, name: `e${i}` })) },
  { name: "50 x `* * * * *` (UTC, same value)", schedules: Array.from({ length: 50 }, (_, i) => ({ cron: "* * * * *", timezone: "UTC", desired: 2, name: `e${i}` })) },
  { name: "50 x `* * * * *` (Europe/Berlin, values 0..49)", schedules: Array.from({ length: 50 }, (_, i) => ({ cron: "* * * * *", timezone: "Europe/Berlin", desired: i, name: `e${i}` })) },
];

export interface RouteFigures {
  route: string;
  wallMedianMs: number;
  wallP95Ms: number;
  cpuMedianMs: number;
  cpuP95Ms: number;
  bytes: number;
}

export interface ReadCaseResult {
  name: string;
  routes: RouteFigures[];
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Every case in one worker (a fresh group each), `samples` requests per route after `warmup` unmeasured ones. */
export async function measureReadRoutes(scriptPath: string, options: { samples: number; warmup: number }, progress: (line: string) => void): Promise<ReadCaseResult[]> {
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE;
  const handle = await launchFakeCloud(cloudOptions(t0));
  const out: ReadCaseResult[] = [];
  try {
    const worker = await startBenchWorker({ scriptPath, cloud: cloudBindings(handle) });
    try {
      const headers = { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
      for (const [i, c] of READ_CASES.entries()) {
        const group = `reads-${i}`;
        seedServers(handle.cloud, [0, 1].map((k) => ({ name: `${group}-${k}`, metadata: { [GROUP_KEY]: group } })), t0 - 24 * 60 * MINUTE);
        const put = await worker.api("PUT", `/v1/groups/${group}`, { image: IMAGE, flavor: FLAVOR, min: 0, max: 60, default: 2, schedules: c.schedules });
        if (put.status !== 201) throw new Error(`PUT ${group}: ${put.status} ${await put.text()}`);
        // One tick, so status has a last tick, members and history to show, as a live group's would.
        await worker.tick(new Date(t0));
        const routes: RouteFigures[] = [];
        for (const route of [`/v1/groups/${group}`, `/v1/groups/${group}/timeline`]) {
          const wall: number[] = [];
          const cpu: number[] = [];
          let bytes = 0;
          for (let n = 0; n < options.warmup + options.samples; n++) {
            const cpuBefore = worker.cpuMs();
            const started = performance.now();
            const res = await fetch(`${worker.url}${route}`, { headers });
            const body = await res.arrayBuffer();
            const wallMs = performance.now() - started;
            const cpuMs = worker.cpuMs() - cpuBefore;
            if (res.status !== 200) throw new Error(`GET ${route}: ${res.status} ${new TextDecoder().decode(body).slice(0, 500)}`);
            bytes = body.byteLength;
            if (n >= options.warmup) {
              wall.push(wallMs);
              cpu.push(cpuMs);
            }
          }
          routes.push({
            route: route.endsWith("/timeline") ? "timeline" : "status",
            wallMedianMs: quantile(wall, 0.5),
            wallP95Ms: quantile(wall, 0.95),
            cpuMedianMs: quantile(cpu, 0.5),
            cpuP95Ms: quantile(cpu, 0.95),
            bytes,
          });
        }
        progress(`reads: ${c.name}: ${routes.map((r) => `${r.route} ${r.wallMedianMs.toFixed(1)} ms (cpu ${r.cpuMedianMs.toFixed(1)} ms)`).join(", ")}`);
        out.push({ name: c.name, routes });
      }
    } finally {
      await worker.dispose();
    }
  } finally {
    await handle.close();
  }
  return out;
}

export function renderReadRoutes(results: readonly ReadCaseResult[], samples: number): string {
  const base = results[0];
  const lines = [
    `| rules | route | wall median | wall p95 | workerd CPU median | CPU p95 | body | wall median vs ${base?.name ?? "first"} |`,
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    for (const f of r.routes) {
      const ref = base?.routes.find((b) => b.route === f.route);
      const ratio = ref === undefined || ref.wallMedianMs === 0 ? "" : `${(f.wallMedianMs / ref.wallMedianMs).toFixed(1)}x`;
      lines.push(`| ${r.name} | ${f.route} | ${f.wallMedianMs.toFixed(1)} ms | ${f.wallP95Ms.toFixed(1)} ms | ${f.cpuMedianMs.toFixed(1)} ms | ${f.cpuP95Ms.toFixed(1)} ms | ${(f.bytes / 1024).toFixed(1)} KiB | ${ratio} |`);
    }
  }
  lines.push("", `${samples} requests per route after warm-up, over HTTP to the worker in workerd (Miniflare), one at a time.`);
  return lines.join("\n");
}
