// The fake-cloud benchmarks: cost per tick over the groups x servers grid, and boots to take a group from 0 to N.
import type { FakeCloud } from "../../test/fake-cloud/cloud.ts";
import type { FakeServer } from "../../test/fake-cloud/model.ts";
import { GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import { rulesEtag, writeGroups, type RulesKv } from "../../src/store/rules.ts";
import { BOOK_GROUP_KEY, runBookStyle, type BookCredentials, type BookJob } from "./book-style.ts";
import { launchFakeCloud, type FakeCloudHandle } from "./fake-cloud-handle.ts";
import { startBenchWorker, type BenchWorker, type KvCounts } from "./worker-runner.ts";

export const MINUTE = 60_000;
/** Share of the project's servers that belong to no group (other people's servers, never touched). */
const FOREIGN_SHARE = 0.1;
/** Servers each group gains in the scale-out tick and loses in the scale-in tick. */
export const SCALE_STEP = 2;
/** The grid shows each tick's whole cost: a paid plan's budget, so no scale event is spread over ticks (section 4 does that). */
const PAID_BUDGET = "10000";
export const IMAGE = "cirros";
export const FLAVOR = "m1.tiny";
const DEMO = { username: "demo", password: "demo-password", projectName: "demo" };

export interface CloudCounts {
  identity: number;
  compute: number;
  image: number;
  total: number;
  boots: number;
  deletes: number;
  /** GET .../servers/detail pages. */
  listPages: number;
  /** Requests by route, e.g. "GET /compute/v2.1/limits" (ids shown as {id}). */
  routes: Record<string, number>;
}

export interface TickFigures {
  label: string;
  cloud: CloudCounts;
  kv: KvCounts;
  workerdCpuMs: number;
  wallMs: number;
  outcome: string;
}

export interface BookFigures {
  label: string;
  cloud: CloudCounts;
  wallMs: number;
  /** Groups actually run; when fewer than the cell's, the counts are that run's times groups/sampled (every group's job is the same). */
  sampledGroups: number;
}

/** The book-style script costs groups x listing pages requests; above this many page reads it runs a sample group and multiplies. */
export const BOOK_FULL_RUN_PAGE_BUDGET = 40;

export interface CellResult {
  groups: number;
  servers: number;
  membersPerGroup: number;
  foreign: number;
  ticks: TickFigures[];
  book: BookFigures[];
}

export interface BootToNResult {
  target: number;
  maxBootsPerTick: number;
  ticks: number;
  converged: boolean;
  bootRequests: number;
  serversBooted: number;
  subrequests: number;
  book: { bootRequests: number; subrequests: number };
}

export function countsFrom(cloud: FakeCloud): CloudCounts {
  const stats = cloud.stats();
  let boots = 0;
  let deletes = 0;
  let listPages = 0;
  for (const [route, n] of Object.entries(stats.byRoute)) {
    if (/^POST \/compute\/v[\d.]+(\/[^/]+)?\/servers$/.test(route)) boots += n;
    if (/^DELETE \/compute\/.*\/servers\/\{id\}$/.test(route)) deletes += n;
    if (/^GET \/compute\/.*\/servers\/detail$/.test(route)) listPages += n;
  }
  const s = stats.byService;
  return { identity: s["identity"] ?? 0, compute: s["compute"] ?? 0, image: s["image"] ?? 0, total: stats.total, boots, deletes, listPages, routes: { ...stats.byRoute } };
}

/**
 * Puts `count` ACTIVE servers into the fake cloud at once. The emulator's seedServer() re-lists
 * every server per call (fine for tests, quadratic for 10,000), so one seeded server is the
 * template and the rest are copies with their own id, name and metadata.
 */
export function seedServers(cloud: FakeCloud, specs: Array<{ name: string; metadata: Record<string, string> }>, createdAt: number): void {
  const first = cloud.seedServer({ name: "bench-template", createdAt });
  const template = cloud.servers.get(first.id);
  if (template === undefined) throw new Error("fake cloud: seeded template server not found");
  cloud.servers.delete(first.id);
  for (const spec of specs) {
    const id = cloud.rng.uuid();
    const server: FakeServer = {
      ...template,
      id,
      numericId: cloud.nextServerNumber++,
      name: spec.name,
      hostname: spec.name,
      metadata: { ...spec.metadata },
      tags: [],
      addresses: [],
      personality: [],
      reservationId: `r-${cloud.rng.token(8)}`,
    };
    cloud.servers.set(id, server);
  }
}

export function groupName(i: number): string {
  return `g${String(i + 1).padStart(3, "0")}`;
}

interface CellPlan {
  groups: number;
  servers: number;
  membersPerGroup: number;
  foreign: number;
}

function planCell(groups: number, servers: number): CellPlan {
  const membersPerGroup = Math.floor(((1 - FOREIGN_SHARE) * servers) / groups);
  return { groups, servers, membersPerGroup, foreign: servers - groups * membersPerGroup };
}

function seedCell(cloud: FakeCloud, plan: CellPlan, memberKey: string, createdAt: number): void {
  const specs: Array<{ name: string; metadata: Record<string, string> }> = [];
  for (let g = 0; g < plan.groups; g++) {
    for (let k = 0; k < plan.membersPerGroup; k++) specs.push({ name: `${groupName(g)}-${k}`, metadata: { [memberKey]: groupName(g) } });
  }
  for (let k = 0; k < plan.foreign; k++) specs.push({ name: `someone-else-${k}`, metadata: { owner: "another team" } });
  seedServers(cloud, specs, createdAt);
}

export function cloudOptions(start: number) {
  return {
    clock: "manual" as const,
    startAt: start,
    // Room for every cell: the grid measures cost, not quota handling.
    quotas: { instances: 1_000_000, cores: 10_000_000, ram: 1_000_000_000 },
  };
}

export async function putGroups(worker: BenchWorker, names: readonly string[], rules: GroupRulesInput): Promise<void> {
  const kv = await worker.kv();
  const parsed = GroupRulesSchema.parse(rules);
  const etag = await rulesEtag(parsed);
  const envelope = { version: 1 as const, rules: parsed, etag, updatedAt: new Date(0).toISOString(), updatedBy: "bench" };
  await writeGroups(kv as unknown as RulesKv, names.map((name) => ({ name, envelope })));
  await worker.takeKvCounts(); // seeding is not part of any tick
}

export function cloudBindings(handle: FakeCloudHandle): Record<string, string> {
  return {
    OS_AUTH_URL: `${handle.url}/identity/v3`,
    OS_USERNAME: DEMO.username,
    OS_PASSWORD: DEMO.password,
    OS_PROJECT_NAME: DEMO.projectName,
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_REGION_NAME: "RegionOne",
  };
}

/**
 * Real time to let pass after a tick that acted. Production ticks are a minute apart; a group's
 * Durable Object lists again itself when its last action (wall clock) is not older than the tick's
 * shared listing plus a 1 s skew, so back-to-back benchmark ticks would measure re-listings that
 * production never makes.
 */
const PAUSE_AFTER_ACTION_MS = 1_500;

export async function measuredTick(worker: BenchWorker, cloud: FakeCloud, at: number, label: string): Promise<TickFigures> {
  cloud.setTime(at);
  cloud.resetStats();
  const m = await worker.tick(new Date(at));
  const counts = countsFrom(cloud);
  if (counts.boots + counts.deletes > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_ACTION_MS));
  return { label, cloud: counts, kv: m.kv, workerdCpuMs: m.workerdCpuMs, wallMs: m.wallMs, outcome: m.outcome };
}

export const TICK_LABELS = {
  cold: "steady, cold isolate",
  warm: "steady, warm isolate",
  out: `scale-out (+${SCALE_STEP}/group)`,
  afterOut: "steady after scale-out",
  in: `scale-in (-${SCALE_STEP}/group)`,
  afterIn: "steady after scale-in",
} as const;

/** One cell of the grid: novascale's ticks through steady state and scale events, then the book-style script doing the same. */
export async function measureCell(scriptPath: string, groups: number, servers: number, log: (line: string) => void = () => {}): Promise<CellResult> {
  const plan = planCell(groups, servers);
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE;
  const tOut = t0 + 2 * MINUTE;
  const tIn = t0 + 4 * MINUTE;
  const names = Array.from({ length: groups }, (_, i) => groupName(i));
  const d = plan.membersPerGroup;

  const handle = await launchFakeCloud(cloudOptions(t0));
  const ticks: TickFigures[] = [];
  try {
    seedCell(handle.cloud, plan, GROUP_KEY, t0 - 24 * 60 * MINUTE);
    const worker = await startBenchWorker({ scriptPath, cloud: { ...cloudBindings(handle), NOVASCALE_SUBREQUEST_BUDGET: PAID_BUDGET } });
    try {
      await putGroups(worker, names, {
        image: IMAGE,
        flavor: FLAVOR,
        min: 0,
        max: 10_000,
        default: d,
        schedules: [
          { at: new Date(tOut).toISOString(), desired: d + SCALE_STEP, name: "bench scale-out" },
          { at: new Date(tIn).toISOString(), desired: d, name: "bench scale-in" },
        ],
      });
      const schedule: Array<[number, string]> = [
        [t0, TICK_LABELS.cold],
        [t0 + MINUTE, TICK_LABELS.warm],
        [tOut, TICK_LABELS.out],
        [tOut + MINUTE, TICK_LABELS.afterOut],
        [tIn, TICK_LABELS.in],
        [tIn + MINUTE, TICK_LABELS.afterIn],
      ];
      for (const [at, label] of schedule) {
        const figures = await measuredTick(worker, handle.cloud, at, label);
        ticks.push(figures);
        log(`  ${groups} groups x ${servers} servers, ${label}: ${figures.cloud.total} subrequests, ${figures.workerdCpuMs.toFixed(1)} ms workerd CPU`);
      }
    } finally {
      await worker.dispose();
    }
  } finally {
    await handle.close();
  }

  const book = await measureBookCell(plan, names, t0);
  log(`  ${groups} groups x ${servers} servers, book-style: ${book.map((b) => b.cloud.total).join(" / ")} requests`);
  return { ...plan, ticks, book };
}

/** The book-style script on a fresh copy of the same cell, doing the same three jobs. */
async function measureBookCell(plan: CellPlan, names: readonly string[], t0: number): Promise<BookFigures[]> {
  const pages = Math.floor(plan.servers / 1000) + 1;
  const sample = plan.groups * pages <= BOOK_FULL_RUN_PAGE_BUDGET ? names : names.slice(0, 1);
  const scale = names.length / sample.length;
  const handle = await launchFakeCloud(cloudOptions(t0));
  try {
    seedCell(handle.cloud, plan, BOOK_GROUP_KEY, t0 - 24 * 60 * MINUTE);
    const creds: BookCredentials = { authUrl: `${handle.url}/identity/v3`, ...DEMO, userDomainName: "Default", projectDomainName: "Default" };
    const jobs = (desired: number): BookJob[] => sample.map((group) => ({ group, desired, image: IMAGE, flavor: FLAVOR }));
    const scaled = (c: CloudCounts): CloudCounts => {
      const routes: Record<string, number> = {};
      for (const [route, n] of Object.entries(c.routes)) routes[route] = n * scale;
      return {
        identity: c.identity * scale,
        compute: c.compute * scale,
        image: c.image * scale,
        total: c.total * scale,
        boots: c.boots * scale,
        deletes: c.deletes * scale,
        listPages: c.listPages * scale,
        routes,
      };
    };
    const out: BookFigures[] = [];
    const run = async (label: string, at: number, desired: number) => {
      handle.cloud.setTime(at);
      handle.cloud.resetStats();
      const result = await runBookStyle(creds, jobs(desired));
      out.push({ label, cloud: scaled(countsFrom(handle.cloud)), wallMs: result.wallMs * scale, sampledGroups: sample.length });
    };
    await run(TICK_LABELS.warm, t0 + MINUTE, plan.membersPerGroup);
    await run(TICK_LABELS.out, t0 + 2 * MINUTE, plan.membersPerGroup + SCALE_STEP);
    await run(TICK_LABELS.in, t0 + 4 * MINUTE, plan.membersPerGroup);
    return out;
  } finally {
    await handle.close();
  }
}

/** Ticks one group from 0 servers to `target`; counts boot requests (POST /servers) and all subrequests. */
export async function measureBootToN(scriptPath: string, target: number, maxBootsPerTick?: number): Promise<BootToNResult> {
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE;
  const handle = await launchFakeCloud(cloudOptions(t0));
  let ticks = 0;
  let converged = false;
  let bootRequests = 0;
  let subrequests = 0;
  let limit = 10;
  try {
    const worker = await startBenchWorker({ scriptPath, cloud: { ...cloudBindings(handle), NOVASCALE_SUBREQUEST_BUDGET: PAID_BUDGET } });
    try {
      const rules: GroupRulesInput = { image: IMAGE, flavor: FLAVOR, min: 0, max: 10_000, default: target };
      if (maxBootsPerTick !== undefined) rules.limits = { maxBootsPerTick, maxDeletesPerTick: 10, buildTimeoutMinutes: 30 };
      limit = GroupRulesSchema.parse(rules).limits.maxBootsPerTick;
      await putGroups(worker, ["web"], rules);
      const members = () => handle.cloud.serverSnapshots().filter((s) => s.metadata[GROUP_KEY] === "web" && s.status !== "DELETED").length;
      // Enough ticks to converge at the cap, with room to spare; stops as soon as the group has N servers.
      for (let i = 0; i < Math.ceil(target / limit) + 3 && !converged; i++) {
        const figures = await measuredTick(worker, handle.cloud, t0 + i * MINUTE, `tick ${i + 1}`);
        ticks += 1;
        bootRequests += figures.cloud.boots;
        subrequests += figures.cloud.total;
        converged = members() >= target;
      }
    } finally {
      await worker.dispose();
    }
    const serversBooted = handle.cloud.serverSnapshots().filter((s) => s.metadata[GROUP_KEY] === "web").length;

    const bookHandle = await launchFakeCloud(cloudOptions(t0));
    try {
      const creds: BookCredentials = { authUrl: `${bookHandle.url}/identity/v3`, ...DEMO, userDomainName: "Default", projectDomainName: "Default" };
      await runBookStyle(creds, [{ group: "web", desired: target, image: IMAGE, flavor: FLAVOR }]);
      const book = countsFrom(bookHandle.cloud);
      return { target, maxBootsPerTick: limit, ticks, converged, bootRequests, serversBooted, subrequests, book: { bootRequests: book.boots, subrequests: book.total } };
    } finally {
      await bookHandle.close();
    }
  } finally {
    await handle.close();
  }
}
