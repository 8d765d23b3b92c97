// Side by side on the real OpenStack tier (the devcloud): novascale's tick vs the book-style script doing the same job for 10 groups.
//
// Both talk to Keystone/Nova/Glance through the counting proxy. They work in a project of their own
// ("novascale-bench", created once with the admin credentials the harness wrote), so nobody else's
// servers or quota changes get in the way, and the job fits the default quota (10 instances, 20
// cores): 10 groups x 1 m1.tiny server up, then down to 0.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";
import { rulesEtag, writeGroups, type RulesKv } from "../../src/store/rules.ts";
import { runBookStyle, type BookCredentials } from "./book-style.ts";
import { startCountingProxy, type CountingProxy } from "./counting-proxy.ts";
import { REPO_ROOT, startBenchWorker } from "./worker-runner.ts";

const MINUTE = 60_000;
export const REAL_GROUPS = 10;
const REAL_ATTEMPTS = 2;
const BENCH_PROJECT = "novascale-bench";
const BENCH_USER = "novascale-bench";

export interface RealSide {
  calls: number;
  byService: Record<string, number>;
  wallMs: number;
  booted: number;
  deleted: number;
}

/** The job in three steps: scale up, a check with nothing to do (what every later minute costs), scale down. */
export interface RealJob {
  up: RealSide;
  steady: RealSide;
  down: RealSide;
}

export interface RealResult {
  ok: true;
  authUrl: string;
  image: string;
  flavor: string;
  /** Network name both sides attached their servers to, or "none". */
  network: string;
  groups: number;
  novascale: RealJob;
  book: RealJob;
  calls: Record<string, number>;
  /** Things that went differently than planned (a wait that timed out, servers missing); empty when clean. */
  warnings: string[];
}

export type RealOutcome = RealResult | { ok: false; reason: string };

interface AdminSettings {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
}

/** The harness writes `$DEVCLOUD_DIR/adminrc` (export OS_...=...); read it without running a shell. */
function readRc(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*export\s+(\w+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) out[match[1]] = match[2].replace(/^['"]|['"]$/g, "");
  }
  return out;
}

function adminSettings(): AdminSettings | string {
  const dir = process.env["DEVCLOUD_DIR"] ?? "/tmp/devcloud";
  const rcPath = join(dir, "adminrc");
  if (!existsSync(rcPath)) return `no ${rcPath} (bring the devcloud up with test/devcloud/harness/up.sh)`;
  const rc = readRc(rcPath);
  const { OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME } = rc;
  if (!OS_AUTH_URL || !OS_USERNAME || !OS_PASSWORD || !OS_PROJECT_NAME) return `${rcPath} lacks OS_AUTH_URL/OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME`;
  return { authUrl: OS_AUTH_URL.replace(/\/+$/, ""), username: OS_USERNAME, password: OS_PASSWORD, projectName: OS_PROJECT_NAME };
}

interface Session {
  token: string;
  catalog: Array<{ type: string; endpoints: Array<{ interface: string; url: string }> }>;
  projectId: string;
}

/** A direct (uncounted) v3 session, for setup, waiting and cleanup only. */
async function login(authUrl: string, user: string, password: string, project: string): Promise<Session> {
  const response = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: user, domain: { id: "default" }, password } } },
        scope: { project: { name: project, domain: { id: "default" } } },
      },
    }),
  });
  if (response.status !== 201) throw new Error(`login as ${user}: HTTP ${response.status}`);
  const body = (await response.json()) as { token: { catalog: Session["catalog"]; project: { id: string } } };
  return { token: response.headers.get("X-Subject-Token") ?? "", catalog: body.token.catalog, projectId: body.token.project.id };
}

function endpoint(session: Session, type: string): string {
  const url = session.catalog.find((s) => s.type === type)?.endpoints.find((e) => e.interface === "public")?.url;
  if (url === undefined) throw new Error(`no public ${type} endpoint`);
  return url.replace(/\/+$/, "");
}

async function api(session: Session, method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method, headers: { "X-Auth-Token": session.token, "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(url, init);
  const text = await response.text();
  try {
    return { status: response.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  } catch {
    throw new Error(`${method} ${new URL(url).pathname}: HTTP ${response.status}, not JSON (is the devcloud restarting?)`);
  }
}

/** The bench project and user (created once, password renewed each run; it never leaves this process). */
async function ensureBenchAccount(admin: AdminSettings): Promise<BookCredentials> {
  const session = await login(admin.authUrl, admin.username, admin.password, admin.projectName);
  const ks = admin.authUrl;
  const first = async (path: string, key: string) => ((await api(session, "GET", `${ks}${path}`)).json[key] as Array<{ id: string }>)[0];
  let project = await first(`/projects?name=${BENCH_PROJECT}`, "projects");
  if (project === undefined) {
    const created = await api(session, "POST", `${ks}/projects`, { project: { name: BENCH_PROJECT, domain_id: "default", description: "novascale benchmarks" } });
    project = created.json["project"] as { id: string };
  }
  const password = `bench-${crypto.randomUUID()}`;
  let user = await first(`/users?name=${BENCH_USER}`, "users");
  if (user === undefined) {
    const created = await api(session, "POST", `${ks}/users`, { user: { name: BENCH_USER, domain_id: "default", password, default_project_id: project.id } });
    user = created.json["user"] as { id: string };
  } else {
    const patched = await api(session, "PATCH", `${ks}/users/${user.id}`, { user: { password } });
    if (patched.status !== 200) throw new Error(`renew bench password: HTTP ${patched.status}`);
    // A password change revokes the user's tokens issued up to that second (Keystone's revocation
    // events have second resolution): a token from the same second validates at Keystone but other
    // services reject it. Let the second pass.
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const role = await first(`/roles?name=member`, "roles");
  if (role === undefined) throw new Error("no 'member' role in Keystone");
  const granted = await api(session, "PUT", `${ks}/projects/${project.id}/users/${user.id}/roles/${role.id}`);
  if (granted.status !== 204) throw new Error(`grant member role: HTTP ${granted.status}`);
  return { authUrl: admin.authUrl, username: BENCH_USER, password, projectName: BENCH_PROJECT, userDomainName: "Default", projectDomainName: "Default" };
}

async function listServers(session: Session): Promise<Array<{ id: string; status: string }>> {
  const result = await api(session, "GET", `${endpoint(session, "compute")}/servers/detail`);
  return (result.json["servers"] ?? []) as Array<{ id: string; status: string }>;
}

/** Waits (uncounted) until the project's servers satisfy `done`; false when it gave up after `timeoutMs`. */
async function waitFor(session: Session, done: (servers: Array<{ id: string; status: string }>) => boolean, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done(await listServers(session))) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Deletes every server of the bench project (it is ours alone), uncounted. */
async function cleanUp(session: Session): Promise<void> {
  for (const server of await listServers(session)) await api(session, "DELETE", `${endpoint(session, "compute")}/servers/${server.id}`);
  await waitFor(session, (servers) => servers.length === 0);
}

function side(proxy: CountingProxy, wallMs: number, booted: number, deleted: number, into: Record<string, number>, who: string): RealSide {
  const byService = proxy.counts();
  for (const [shape, n] of Object.entries(proxy.calls())) into[`${who}: ${shape}`] = (into[`${who}: ${shape}`] ?? 0) + n;
  return { calls: Object.values(byService).reduce((a, b) => a + b, 0), byService, wallMs, booted, deleted };
}

function activeCount(servers: Array<{ status: string }>): number {
  return servers.filter((s) => s.status === "ACTIVE").length;
}

interface Placement {
  image: string;
  flavor: string;
  /** The network both sides attach to; undefined on a cloud without a network service (then no NICs). */
  network: { id: string; name: string } | undefined;
}

async function pickPlacement(session: Session): Promise<Placement> {
  const images = (await api(session, "GET", `${endpoint(session, "image")}/v2/images`)).json["images"] as Array<{ name: string; status: string }>;
  const image = images.find((i) => i.name === "cirros-fake" && i.status === "active") ?? images.find((i) => i.status === "active");
  if (image === undefined) throw new Error("no active image on the devcloud");
  let network: Placement["network"];
  if (session.catalog.some((s) => s.type === "network")) {
    const listed = (await api(session, "GET", `${endpoint(session, "network")}/v2.0/networks`)).json["networks"] as Array<{ id: string; name: string }> | undefined;
    const chosen = listed?.find((n) => n.name === "private") ?? listed?.[0];
    if (chosen !== undefined) network = { id: chosen.id, name: chosen.name };
  }
  return { image: image.name, flavor: "m1.tiny", network };
}

export async function devcloudReachable(): Promise<string | undefined> {
  const admin = adminSettings();
  if (typeof admin === "string") return admin;
  try {
    const response = await fetch(admin.authUrl, { signal: AbortSignal.timeout(3000) });
    return response.ok ? undefined : `Keystone at ${admin.authUrl} answered ${response.status}`;
  } catch (error) {
    return `Keystone at ${admin.authUrl} is not reachable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Waits (up to `timeoutMs`) until Keystone, Nova and Glance all answer; the harness may be restarting them. */
async function waitHealthy(admin: AdminSettings, timeoutMs = 90_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let problem = "not checked";
  while (Date.now() < deadline) {
    try {
      const session = await login(admin.authUrl, admin.username, admin.password, admin.projectName);
      const compute = await fetch(`${endpoint(session, "compute")}/`, { headers: { "X-Auth-Token": session.token } });
      const image = await fetch(`${endpoint(session, "image")}/v2/images?limit=1`, { headers: { "X-Auth-Token": session.token } });
      await compute.arrayBuffer();
      await image.arrayBuffer();
      const services = await api(session, "GET", `${endpoint(session, "compute")}/os-services?binary=nova-compute`);
      const computeUp = ((services.json["services"] ?? []) as Array<{ state: string; status: string }>).some((x) => x.state === "up" && x.status === "enabled");
      if (compute.ok && image.ok && computeUp) return undefined;
      problem = `Nova answered ${compute.status}, Glance ${image.status}, nova-compute ${computeUp ? "up" : "not up"}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
  return `the devcloud did not become healthy within ${timeoutMs / 1000} s (${problem})`;
}

/** Is someone (a test run, the harness's author) running up.sh or down.sh right now? Then wait, never start a second one. */
function harnessScriptRunning(): boolean {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args.some((a) => /(^|\/)(up|down)\.sh$/.test(a))) return true;
    } catch {
      // process ended
    }
  }
  return false;
}

/** Brings the devcloud up with the harness when it is down (as `npm run test:openstack` does); DEVCLOUD_NO_UP=1 forbids it. */
async function bringUpDevcloud(log: (line: string) => void): Promise<string | undefined> {
  for (let waited = 0; harnessScriptRunning() && waited < 300_000; waited += 5_000) {
    if (waited === 0) log("real tier: the devcloud harness is running (up.sh/down.sh); waiting for it");
    await new Promise((r) => setTimeout(r, 5_000));
  }
  if ((await devcloudReachable()) === undefined) return undefined;
  if (process.env["DEVCLOUD_NO_UP"] === "1") return "DEVCLOUD_NO_UP=1";
  if (process.getuid?.() !== 0) return "up.sh needs root";
  log("real tier: devcloud down; running test/devcloud/harness/up.sh (output in $DEVCLOUD_DIR/log)");
  const code = await new Promise<number>((resolve) => {
    const child = spawn("bash", [join(REPO_ROOT, "test/devcloud/harness/up.sh")], { cwd: join(REPO_ROOT, "test/devcloud/harness"), stdio: "ignore" });
    child.on("exit", (status) => resolve(status ?? 1));
    child.on("error", () => resolve(1));
  });
  return code === 0 ? undefined : `up.sh exited with ${code}`;
}

export async function measureRealTier(scriptPath: string, log: (line: string) => void = () => {}): Promise<RealOutcome> {
  const upProblem = await bringUpDevcloud(log);
  const unreachable = await devcloudReachable();
  if (unreachable !== undefined) return { ok: false, reason: upProblem === undefined ? unreachable : `${unreachable}; not brought up: ${upProblem}` };
  const admin = adminSettings() as AdminSettings;
  // The harness may restart the devcloud under us (tests re-run up.sh): one more try after it settles.
  let failure = "";
  for (let attempt = 1; attempt <= REAL_ATTEMPTS; attempt++) {
    const unhealthy = await waitHealthy(admin);
    if (unhealthy !== undefined) return { ok: false, reason: unhealthy };
    try {
      const result = await sideBySide(scriptPath, admin);
      if (attempt > 1) result.warnings.push(`attempt ${attempt}: the first attempt failed (${failure})`);
      return result;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  return { ok: false, reason: `the run failed ${REAL_ATTEMPTS} times, last: ${failure}` };
}

async function sideBySide(scriptPath: string, admin: AdminSettings): Promise<RealResult> {
  const warnings: string[] = [];
  const creds = await ensureBenchAccount(admin);
  const direct = await login(creds.authUrl, creds.username, creds.password, creds.projectName);
  await cleanUp(direct);
  const { image, flavor, network } = await pickPlacement(direct);

  // Every service the catalog names goes through the proxy (identity, compute, image, placement, network...).
  const adminSession = await login(admin.authUrl, admin.username, admin.password, admin.projectName);
  const upstreams: Record<string, string> = {};
  for (const service of adminSession.catalog) {
    const url = service.endpoints.find((e) => e.interface === "public")?.url;
    if (url !== undefined) upstreams[service.type] = new URL(url).origin;
  }
  const proxy = await startCountingProxy(upstreams);
  const viaProxy = (url: string) => `${proxy.prefix("identity")}${new URL(url).pathname}`.replace(/\/+$/, "");

  const calls: Record<string, number> = {};
  const deletesSeen = () => Object.entries(proxy.calls()).filter(([k]) => k.startsWith("DELETE compute")).reduce((a, [, n]) => a + n, 0);
  const bootsSeen = () => Object.entries(proxy.calls()).filter(([k]) => /^POST compute\/[^/]+\/servers$/.test(k)).reduce((a, [, n]) => a + n, 0);
  try {
    // novascale: 10 groups at 1 server from t0, at 0 from t1 (a schedule); cron ticks at t0, t0 + 30 s and t1.
    const t0 = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const t1 = t0 + MINUTE;
    const names = Array.from({ length: REAL_GROUPS }, (_, i) => `ns${String(i + 1).padStart(2, "0")}`);
    const worker = await startBenchWorker({
      scriptPath,
      cloud: {
        OS_AUTH_URL: viaProxy(creds.authUrl),
        OS_USERNAME: creds.username,
        OS_PASSWORD: creds.password,
        OS_PROJECT_NAME: creds.projectName,
        OS_USER_DOMAIN_NAME: "Default",
        OS_PROJECT_DOMAIN_NAME: "Default",
        OS_REGION_NAME: "RegionOne",
        OS_INTERFACE: "public",
      },
    });
    let novascale: RealJob;
    try {
      const rules: GroupRulesInput = {
        image,
        flavor,
        min: 0,
        max: 1,
        default: 1,
        networks: network === undefined ? "none" : [{ uuid: network.id }],
        schedules: [{ at: new Date(t1).toISOString(), desired: 0, name: "bench down" }],
      };
      const parsed = GroupRulesSchema.parse(rules);
      const etag = await rulesEtag(parsed);
      const kv = (await worker.kv()) as unknown as RulesKv;
      const envelope = { version: 1 as const, rules: parsed, etag, updatedAt: new Date().toISOString(), updatedBy: "bench" };
      await writeGroups(kv, names.map((name) => ({ name, envelope })));

      proxy.reset();
      const up = await worker.tick(new Date(t0));
      const upSide = side(proxy, up.wallMs, bootsSeen(), 0, calls, "novascale");
      if (!(await waitFor(direct, (servers) => activeCount(servers) >= REAL_GROUPS))) {
        warnings.push(`novascale: fewer than ${REAL_GROUPS} servers ACTIVE 60 s after the scale-up tick`);
      }
      // A group's Durable Object lists again when its last action is under 1 s older than the tick's listing.
      await new Promise((r) => setTimeout(r, 1_500));
      proxy.reset();
      const steady = await worker.tick(new Date(t0 + MINUTE / 2));
      const steadySide = side(proxy, steady.wallMs, bootsSeen(), deletesSeen(), calls, "novascale");
      proxy.reset();
      const down = await worker.tick(new Date(t1));
      const downSide = side(proxy, down.wallMs, 0, deletesSeen(), calls, "novascale");
      novascale = { up: upSide, steady: steadySide, down: downSide };
    } finally {
      await worker.dispose();
    }
    await cleanUp(direct);

    // The book-style script, the same job for its own 10 groups.
    const bookCreds: BookCredentials = { ...creds, authUrl: viaProxy(creds.authUrl) };
    const jobs = (desired: number) =>
      names.map((n) => ({ group: n.replace(/^ns/, "bk"), desired, image, flavor, ...(network === undefined ? {} : { networks: [network.id] }) }));
    proxy.reset();
    const bookUp = await runBookStyle(bookCreds, jobs(1));
    const bookUpSide = side(proxy, bookUp.wallMs, bootsSeen(), 0, calls, "book");
    for (const failure of bookUp.groups.flatMap((g) => g.failures)) warnings.push(`book-style: ${failure}`);
    if (!(await waitFor(direct, (servers) => activeCount(servers) >= REAL_GROUPS))) {
      warnings.push(`book-style: fewer than ${REAL_GROUPS} servers ACTIVE 60 s after its scale-up run`);
    }
    proxy.reset();
    const bookSteady = await runBookStyle(bookCreds, jobs(1));
    const bookSteadySide = side(proxy, bookSteady.wallMs, bootsSeen(), deletesSeen(), calls, "book");
    proxy.reset();
    const bookDown = await runBookStyle(bookCreds, jobs(0));
    const bookDownSide = side(proxy, bookDown.wallMs, 0, deletesSeen(), calls, "book");
    for (const failure of bookDown.groups.flatMap((g) => g.failures)) warnings.push(`book-style: ${failure}`);
    await cleanUp(direct);

    const book: RealJob = { up: bookUpSide, steady: bookSteadySide, down: bookDownSide };
    for (const [who, job] of [["novascale", novascale], ["book-style", book]] as const) {
      if (job.up.booted === 0) warnings.push(`${who}: no boot request in the scale-up step`);
      if (job.steady.booted + job.steady.deleted > 0) warnings.push(`${who}: the check with nothing to do booted or deleted`);
      if (job.down.deleted < REAL_GROUPS) warnings.push(`${who}: ${job.down.deleted} delete requests in the scale-down step (expected ${REAL_GROUPS})`);
    }
    return { ok: true, authUrl: admin.authUrl, image, flavor, network: network?.name ?? "none", groups: REAL_GROUPS, novascale, book, calls, warnings };
  } finally {
    await proxy.close();
  }
}
