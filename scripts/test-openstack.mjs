// `npm run test:openstack`: brings the loopback devcloud up when it is not healthy, then runs the real-OpenStack tier as `demo`.
//
// Usage: npm run test:openstack [-- <vitest args, e.g. a test file or -t "name">]
// Environment: DEVCLOUD_DIR (state dir, default /tmp/devcloud), DEVCLOUD_NO_UP=1 (fail instead of running up.sh),
// DEVCLOUD_DEMO_PASSWORD / DEVCLOUD_ADMIN_PASSWORD when up.sh was run with non-default passwords.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const harness = join(root, "test", "devcloud", "harness");
const stateDir = process.env.DEVCLOUD_DIR ?? "/tmp/devcloud";
const authUrl = "http://127.0.0.1:5000/v3";
const demo = { user: "demo", password: process.env.DEVCLOUD_DEMO_PASSWORD ?? "devcloud-demo", project: "demo" };
const admin = { user: "admin", password: process.env.DEVCLOUD_ADMIN_PASSWORD ?? "devcloud-admin", project: "admin" };

function log(message) {
  console.log(`[test:openstack] ${message}`);
}

async function getJson(url, token, extraHeaders = {}) {
  const res = await fetch(url, { headers: { "X-Auth-Token": token, Accept: "application/json", ...extraHeaders }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url} -> ${res.status}`);
  return res.json();
}

async function login({ user, password, project }) {
  const body = {
    auth: {
      identity: { methods: ["password"], password: { user: { name: user, domain: { id: "default" }, password } } },
      scope: { project: { name: project, domain: { id: "default" } } },
    },
  };
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 201) throw new Error(`login as ${user} -> ${res.status}`);
  const catalog = (await res.json()).token.catalog;
  // RegionOne's: the devcloud's catalog also has RegionTwo (the same services through another host name).
  const endpoint = (type) => catalog.find((s) => s.type === type)?.endpoints.find((e) => e.interface === "public" && e.region_id === "RegionOne")?.url;
  return { token: res.headers.get("x-subject-token"), compute: endpoint("compute"), image: endpoint("image") };
}

/** Healthy = both users log in, nova-compute reports up, the seed image and flavor exist. Returns a reason when not. */
async function unhealthyBecause() {
  try {
    const a = await login(admin);
    const services = await getJson(`${a.compute}/os-services?binary=nova-compute`, a.token);
    if (!services.services.some((s) => s.state === "up" && s.status === "enabled")) return "nova-compute is not up";
    const d = await login(demo);
    const images = await getJson(`${d.image}/v2/images?name=cirros-fake`, d.token);
    if (!images.images.some((i) => i.status === "active")) return "image cirros-fake is missing";
    const flavors = await getJson(`${d.compute}/flavors`, d.token);
    if (!flavors.flavors.some((f) => f.name === "m1.tiny")) return "flavor m1.tiny is missing";
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const started = Date.now();
const problem = await unhealthyBecause();
if (problem === undefined) {
  log(`devcloud already healthy (state ${stateDir}); not running up.sh`);
} else {
  log(`devcloud not healthy (${problem}); running up.sh`);
  if (process.env.DEVCLOUD_NO_UP === "1") {
    console.error("[test:openstack] DEVCLOUD_NO_UP=1: not starting it. Run test/devcloud/harness/up.sh as root.");
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error("[test:openstack] up.sh needs root (apt-get install, ports). Run `sudo test/devcloud/harness/up.sh` once, then retry.");
    process.exit(1);
  }
  const upStarted = Date.now();
  const code = await run("bash", [join(harness, "up.sh")], { ...process.env, DEVCLOUD_DIR: stateDir });
  if (code !== 0) {
    console.error(`[test:openstack] up.sh failed (exit ${code}); logs are in ${stateDir}/log`);
    process.exit(code);
  }
  log(`up.sh took ${((Date.now() - upStarted) / 1000).toFixed(1)} s`);
  const after = await unhealthyBecause();
  if (after !== undefined) {
    console.error(`[test:openstack] devcloud still unhealthy after up.sh: ${after}`);
    process.exit(1);
  }
}

// The tier runs as the non-admin demo user; these are the same OS_* names the Worker reads.
const testEnv = {
  ...process.env,
  DEVCLOUD_DIR: stateDir,
  OS_AUTH_URL: authUrl,
  OS_USERNAME: demo.user,
  OS_PASSWORD: demo.password,
  OS_PROJECT_NAME: demo.project,
  OS_USER_DOMAIN_NAME: "Default",
  OS_PROJECT_DOMAIN_NAME: "Default",
  OS_REGION_NAME: "RegionOne",
  OS_INTERFACE: "public",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
delete testEnv.OS_APPLICATION_CREDENTIAL_ID;
delete testEnv.OS_APPLICATION_CREDENTIAL_SECRET;
delete testEnv.OS_PROJECT_ID;
delete testEnv.OS_ENDPOINT_OVERRIDES;
delete testEnv.OS_CLOUD;

log(`setup took ${((Date.now() - started) / 1000).toFixed(1)} s; running vitest (its summary is the last thing printed)`);
const code = await run(process.execPath, [join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--config", "vitest.openstack.config.ts", ...process.argv.slice(2)], testEnv);
process.exit(code);
