// npm start: novascale under `wrangler dev` on 127.0.0.1:8787, against the fake cloud as two clouds (no OS_AUTH_URL) or the configured one, with cron ticks fired here.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { mergeSettings, parseDotEnv, serializeDotEnv } from "./dev-env.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const PORT = intFromEnv("NOVASCALE_PORT", 8787);
const FAKE_CLOUD_PORT = intFromEnv("NOVASCALE_FAKE_CLOUD_PORT", 8790);
const API = `http://${HOST}:${PORT}`;
/** Well known on purpose, so docs/api.md works as written; only ever used with the fake cloud on loopback. */
const FAKE_CLOUD_DEV_TOKEN = "novascale-dev-token";
/** NOVASCALE_STATE_DIR: where local KV and Durable Objects live (the browser tests use a fresh one each run). */
const STATE_DIR_OVERRIDE = process.env.NOVASCALE_STATE_DIR?.trim() ? resolve(process.env.NOVASCALE_STATE_DIR.trim()) : undefined;
const REAL_CLOUD_STATE_DIR = STATE_DIR_OVERRIDE ?? join(ROOT, ".wrangler", "state");
/** The demo's groups (e.g. `web`) must never reach a real cloud: the fake cloud keeps its own local state. */
const FAKE_CLOUD_STATE_DIR = STATE_DIR_OVERRIDE ?? join(ROOT, ".wrangler", "state-fake-cloud");
const ENV_FILE = join(ROOT, ".wrangler", "novascale-dev.env");
const HEALTH_DEADLINE_MS = 60_000;
const DEMO_GROUP = "web";
/**
 * The fake cloud runs as two clouds, so the demo shows both (issue 30): `default` (OS_*, region RegionOne) is the
 * fake cloud at its root, `east` (NOVASCALE_CLOUDS, region RegionTwo) an isolated fake cloud at /clouds/east with
 * its own Keystone, servers and quotas. Nothing crosses: each has its own demo group.
 */
const EAST_CLOUD = "east";
const DEFAULT_REGION = "RegionOne";
const EAST_REGION = "RegionTwo";
const EAST_GROUP = "web-east";
/** Two cron entries alternating every 2 minutes: 2 servers from minute 0, 5 from minute 2, and so on. */
const DEMO_RULES = {
  image: "cirros",
  flavor: "m1.tiny",
  min: 0,
  max: 8,
  default: 2,
  schedules: [
    { name: "demo low", cron: "*/4 * * * *", desired: 2 },
    { name: "demo high", cron: "2-59/4 * * * *", desired: 5 },
  ],
  metadata: { demo: "true" },
};
/** The same shape in the other cloud, the other way round (3 servers, then 1), so the two are told apart at a glance. */
const EAST_RULES = {
  ...DEMO_RULES,
  cloud: EAST_CLOUD,
  region: EAST_REGION,
  default: 1,
  schedules: [
    { name: "demo east high", cron: "*/4 * * * *", desired: 3 },
    { name: "demo east low", cron: "2-59/4 * * * *", desired: 1 },
  ],
};
const DEMO_GROUPS = [
  { name: DEMO_GROUP, rules: DEMO_RULES, says: "2 servers from minute 0 of every 4, 5 from minute 2" },
  { name: EAST_GROUP, rules: EAST_RULES, says: `in cloud '${EAST_CLOUD}': 3 servers from minute 0 of every 4, 1 from minute 2` },
];

function intFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) fail(`${name} must be a positive whole number (got '${raw}')`);
  return value;
}

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function say(message = "") {
  console.log(message);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when nothing listens on host:port yet (so health checks cannot be answered by someone else's server). */
function portIsFree(port) {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once("error", () => resolvePort(false));
    probe.listen(port, HOST, () => probe.close(() => resolvePort(true)));
  });
}

// ------------------------------------------------------------------------------------------------
// Settings: environment over .dev.vars; the fake cloud when neither OS_AUTH_URL nor NOVASCALE_CLOUDS is configured.
// ------------------------------------------------------------------------------------------------

const devVarsPath = join(ROOT, ".dev.vars");
const devVars = existsSync(devVarsPath) ? parseDotEnv(readFileSync(devVarsPath, "utf8")) : {};
const settings = mergeSettings(devVars, process.env);
const useFakeCloud = (settings.OS_AUTH_URL ?? "").trim() === "" && (settings.NOVASCALE_CLOUDS ?? "").trim() === "";

const children = [];
let fakeCloud;
let ticker;
let shuttingDown = false;

async function startFake() {
  let module;
  try {
    module = await import("../test/fake-cloud/node/serve.ts");
  } catch (e) {
    throw new Error(`cannot load test/fake-cloud/node/serve.ts: ${e instanceof Error ? e.message : e}`);
  }
  const cloud = await module.startFakeCloud({ host: HOST, port: FAKE_CLOUD_PORT, options: { clock: "real", buildMs: 4_000, deleteMs: 2_000, snapshotMs: 8_000, region: DEFAULT_REGION } });
  // The second cloud: the host's options (real clock, the same timings) in another region.
  cloud.host.createCloud({ region: EAST_REGION }, EAST_CLOUD);
  return cloud;
}

if (!(await portIsFree(PORT))) fail(`port ${PORT} on ${HOST} is in use (another npm start?); set NOVASCALE_PORT to use another`);
if (useFakeCloud && !(await portIsFree(FAKE_CLOUD_PORT))) {
  fail(`port ${FAKE_CLOUD_PORT} on ${HOST} is in use; set NOVASCALE_FAKE_CLOUD_PORT to run the fake cloud elsewhere`);
}

const FAKE_CLOUD_URL = `http://${HOST}:${FAKE_CLOUD_PORT}`;
// The fake cloud starts while wrangler does (its port is fixed and was free), which saves seconds.
const fakeCloudStarting = useFakeCloud ? startFake() : undefined;
fakeCloudStarting?.then(
  (cloud) => {
    fakeCloud = cloud;
  },
  (e) => {
    console.error(`npm start: the fake cloud did not start: ${e instanceof Error ? e.message : e}`);
    void shutdown(1);
  },
);

/** The fake cloud's demo user on the Keystone at `authUrl`, as a clouds.yaml entry. */
function fakeCloudEntry(authUrl, region) {
  return {
    auth: { auth_url: authUrl, username: "demo", password: "demo-password", project_name: "demo", user_domain_name: "Default", project_domain_name: "Default" },
    region_name: region,
  };
}

/**
 * NOVASCALE_DEMO_CLOUDS (environment only, fake cloud only): more clouds.yaml entries (YAML or JSON) next to the
 * demo's, e.g. one with a wrong password to see a failing cloud; `{fake}` in a value is the fake cloud's origin.
 * The demo's own names are refused, so a demo group can never be pointed at another cloud by it.
 */
function extraDemoClouds() {
  const raw = process.env.NOVASCALE_DEMO_CLOUDS?.trim() ?? "";
  if (raw === "") return {};
  let parsed;
  try {
    parsed = parseYaml(raw.replaceAll("{fake}", FAKE_CLOUD_URL));
  } catch (e) {
    fail(`NOVASCALE_DEMO_CLOUDS is not YAML or JSON: ${e instanceof Error ? e.message : e}`);
  }
  const clouds = parsed?.clouds;
  if (clouds === null || typeof clouds !== "object" || Array.isArray(clouds)) fail("NOVASCALE_DEMO_CLOUDS needs a `clouds` map, as clouds.yaml has");
  for (const name of ["default", EAST_CLOUD]) if (name in clouds) fail(`NOVASCALE_DEMO_CLOUDS: '${name}' is the demo's own cloud; choose another name`);
  return clouds;
}

if (useFakeCloud) {
  const identity = `${FAKE_CLOUD_URL}/identity/v3`;
  Object.assign(settings, {
    // Whatever .dev.vars or the environment say, the demo's clouds are the fake ones only.
    NOVASCALE_CLOUDS: JSON.stringify({ clouds: { [EAST_CLOUD]: fakeCloudEntry(`${FAKE_CLOUD_URL}/clouds/${EAST_CLOUD}/identity/v3`, EAST_REGION), ...extraDemoClouds() } }),
    OS_AUTH_URL: identity,
    OS_USERNAME: "demo",
    OS_PASSWORD: "demo-password",
    OS_PROJECT_NAME: "demo",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_PROJECT_ID: "",
    OS_REGION_NAME: DEFAULT_REGION,
    OS_INTERFACE: "public",
    OS_APPLICATION_CREDENTIAL_ID: "",
    OS_APPLICATION_CREDENTIAL_SECRET: "",
    OS_ENDPOINT_OVERRIDES: "",
  });
}

let token = settings.NOVASCALE_TOKEN?.trim() ?? "";
let tokenOrigin = "NOVASCALE_TOKEN";
if (token === "") {
  // A real cloud gets a fresh random token each run; the fake one a fixed, documented token.
  token = useFakeCloud ? FAKE_CLOUD_DEV_TOKEN : randomBytes(24).toString("base64url");
  tokenOrigin = useFakeCloud ? "the fake cloud's dev token" : "generated for this run";
}
if (token.length < 16) fail("NOVASCALE_TOKEN needs at least 16 characters");
settings.NOVASCALE_TOKEN = token;

// Secrets go to wrangler in a file only we can read, never on a command line (visible in `ps`).
mkdirSync(dirname(ENV_FILE), { recursive: true });
writeFileSync(ENV_FILE, serializeDotEnv(settings), { mode: 0o600 });
chmodSync(ENV_FILE, 0o600);

// ------------------------------------------------------------------------------------------------
// wrangler dev
// ------------------------------------------------------------------------------------------------

function prefixLines(stream, prefix, sink) {
  createInterface({ input: stream }).on("line", (line) => sink(`${prefix}${line}`));
}

const wranglerBin = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
if (!existsSync(wranglerBin)) fail("wrangler is not installed: run `npm install` first");
const wranglerArgs = [
  wranglerBin,
  "dev",
  "--ip",
  HOST,
  "--port",
  String(PORT),
  "--persist-to",
  relative(ROOT, useFakeCloud ? FAKE_CLOUD_STATE_DIR : REAL_CLOUD_STATE_DIR),
  "--env-file",
  relative(ROOT, ENV_FILE),
  "--show-interactive-dev-session=false",
];
// Request logs for every tick would drown the demo; WRANGLER_LOG=info (or debug) brings them back.
if (process.env.WRANGLER_LOG === undefined) wranglerArgs.push("--log-level", "warn");

const wrangler = spawn(process.execPath, wranglerArgs, {
  cwd: ROOT,
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  stdio: ["ignore", "pipe", "pipe"],
  // Its own process group, so shutdown reaches workerd too.
  detached: true,
});
children.push(wrangler);
prefixLines(wrangler.stdout, "[wrangler] ", (l) => console.log(l));
prefixLines(wrangler.stderr, "[wrangler] ", (l) => console.error(l));
wrangler.on("exit", (code, signal) => {
  if (shuttingDown) return;
  console.error(`npm start: wrangler dev exited (${signal ?? `code ${code}`})`);
  void shutdown(code === 0 ? 1 : (code ?? 1));
});

async function shutdown(exitCode = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (ticker !== undefined) clearTimeout(ticker);
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  const cloud = fakeCloud ?? (await fakeCloudStarting?.catch(() => undefined));
  if (cloud !== undefined) await cloud.close().catch(() => undefined);
  process.exit(exitCode);
}

process.on("SIGINT", () => {
  say("\nstopping novascale ...");
  void shutdown(0);
});
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGHUP", () => void shutdown(0));

// ------------------------------------------------------------------------------------------------
// Ready, seed, tell, tick
// ------------------------------------------------------------------------------------------------

async function api(method, path, body, headers = {}) {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

async function waitForHealth() {
  const started = Date.now();
  while (Date.now() - started < HEALTH_DEADLINE_MS) {
    if (shuttingDown) return false;
    try {
      const res = await fetch(`${API}/healthz`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return false;
}

if (fakeCloudStarting !== undefined) await fakeCloudStarting.catch(() => undefined);
if (!(await waitForHealth())) {
  console.error(`npm start: ${API}/healthz did not answer within ${HEALTH_DEADLINE_MS / 1000} s`);
  await shutdown(1);
}

if (useFakeCloud) {
  for (const demo of DEMO_GROUPS) {
    // Created only if absent (If-None-Match: *): edits made through the API survive a restart.
    const seeded = await api("PUT", `/v1/groups/${demo.name}`, demo.rules, { "If-None-Match": "*" });
    if (seeded.status === 201) say(`seeded demo group '${demo.name}': ${demo.says}`);
    else if (seeded.status === 412) say(`demo group '${demo.name}' already exists (kept as it is)`);
    else console.error(`npm start: could not seed the demo group '${demo.name}' (HTTP ${seeded.status}): ${JSON.stringify(seeded.json?.error ?? seeded.json)}`);
  }
}

const demoSecondsRaw = process.env.NOVASCALE_DEMO_TICK_SECONDS;
const demoSeconds = demoSecondsRaw !== undefined && demoSecondsRaw.trim() !== "" ? intFromEnv("NOVASCALE_DEMO_TICK_SECONDS", 10) : useFakeCloud ? 10 : undefined;

const cloudLine = useFakeCloud
  ? `the fake cloud at ${FAKE_CLOUD_URL} as two clouds (in memory, real time; no OS_AUTH_URL or NOVASCALE_CLOUDS configured):\n` +
    `             default (${DEFAULT_REGION}) at ${FAKE_CLOUD_URL}/, ${EAST_CLOUD} (${EAST_REGION}) at ${FAKE_CLOUD_URL}/clouds/${EAST_CLOUD}/`
  : (settings.OS_AUTH_URL ?? "").trim() !== ""
    ? `${settings.OS_AUTH_URL} (from ${process.env.OS_AUTH_URL ? "the environment" : ".dev.vars"})${(settings.NOVASCALE_CLOUDS ?? "").trim() === "" ? "" : ", and the clouds in NOVASCALE_CLOUDS"}`
    : `the clouds in NOVASCALE_CLOUDS (from ${process.env.NOVASCALE_CLOUDS ? "the environment" : ".dev.vars"})`;
say("");
say("novascale is running");
say(`  dashboard: ${API}/  (sign in with the token below)`);
if (useFakeCloud) say(`             ${API}/#/groups/${DEMO_GROUP}?hours=0.25  (the demo group, 15 minutes either side of now)`);
say(`  API:       ${API}  (routes: docs/api.md, schema: ${API}/openapi.json)`);
say(`  cloud:     ${cloudLine}`);
say(`  token:     ${token}  (${tokenOrigin}; role admin)`);
say(`  state:     ${relative(ROOT, useFakeCloud ? FAKE_CLOUD_STATE_DIR : REAL_CLOUD_STATE_DIR)}/ (local KV and Durable Objects)`);
say(`  ticks:     ${demoSeconds === undefined ? "every minute, on the minute" : `every ${demoSeconds} s (demo mode; NOVASCALE_DEMO_TICK_SECONDS)`}`);
say("");
say("watch it:");
say(`  export NOVASCALE_TOKEN=${token}`);
say(`  curl -s -H "Authorization: Bearer $NOVASCALE_TOKEN" ${API}/v1/groups/${useFakeCloud ? DEMO_GROUP : "<name>"}`);
if (useFakeCloud) {
  say(`  curl -s -H "Authorization: Bearer $NOVASCALE_TOKEN" ${API}/v1/groups/${DEMO_GROUP}/activity`);
  say(`  curl -s -H "Authorization: Bearer $NOVASCALE_TOKEN" ${API}/v1/clouds   # each cloud-region as the last tick saw it`);
  say(`  curl -s ${FAKE_CLOUD_URL}/_fake/servers          # the emulator's own server list (cloud default)`);
  say(`  curl -s ${FAKE_CLOUD_URL}/clouds/${EAST_CLOUD}/_fake/servers  # ... and cloud ${EAST_CLOUD}'s`);
}
say("Ctrl-C stops everything.");
say("");

const SCHEDULED_PATHS = ["/cdn-cgi/local/scheduled", "/cdn-cgi/handler/scheduled"];
let scheduledPath;

async function fireTick() {
  const candidates = scheduledPath === undefined ? SCHEDULED_PATHS : [scheduledPath];
  for (const path of candidates) {
    try {
      const res = await fetch(`${API}${path}?cron=${encodeURIComponent("* * * * *").replace(/%20/g, "+")}`);
      await res.text();
      if (res.status === 404 && scheduledPath === undefined) continue;
      scheduledPath = path;
      if (!res.ok) console.error(`tick: ${path} answered HTTP ${res.status}`);
      return res.ok;
    } catch (e) {
      if (!shuttingDown) console.error(`tick failed: ${e instanceof Error ? e.message : e}`);
      return false;
    }
  }
  console.error("tick: wrangler dev has no scheduled-event endpoint");
  return false;
}

const lastDemoLines = new Map();
async function reportDemo() {
  if (!useFakeCloud) return;
  for (const { name } of DEMO_GROUPS) {
    const { status, json } = await api("GET", `/v1/groups/${name}`).catch(() => ({ status: 0, json: undefined }));
    if (status !== 200 || json === undefined) continue;
    const actual = Object.entries(json.actualByStatus ?? {})
      .map(([s, n]) => `${n} ${s}`)
      .join(", ");
    // The rule's name is enough here; the full reason is in the status.
    const why = String(json.desired?.reason ?? "").split(" (")[0];
    const line = `${name} (${json.cloud ?? "default"}/${json.region ?? "-"}): desired ${json.desired?.value} (${why}); actual ${actual || "none"} as of the last tick; ${json.health}`;
    if (line !== lastDemoLines.get(name)) say(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
    lastDemoLines.set(name, line);
  }
}

function scheduleNextTick() {
  if (shuttingDown) return;
  const now = Date.now();
  const delay = demoSeconds !== undefined ? demoSeconds * 1000 : 60_000 - (now % 60_000) + 500;
  ticker = setTimeout(async () => {
    await fireTick();
    await reportDemo();
    scheduleNextTick();
  }, delay);
}

await fireTick();
await reportDemo();
scheduleNextTick();
