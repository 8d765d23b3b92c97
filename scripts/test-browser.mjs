// npm run test:browser: starts the `npm start` stack (fake cloud, wrangler dev, demo group) with fresh state and test tokens,
// then runs test/browser/ in headless Chromium (Debian's `chromium`, driven by playwright-core). `--screenshot` writes docs/dashboard.png and docs/dashboard-policy.png instead.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PORT = Number(process.env.NOVASCALE_PORT ?? 8787);
const BASE = `http://127.0.0.1:${PORT}`;
const FAKE_CLOUD = `http://127.0.0.1:${Number(process.env.NOVASCALE_FAKE_CLOUD_PORT ?? 8790)}/_fake`;
const UP_LIMIT_MS = 90_000;
const screenshot = process.argv.includes("--screenshot");

/** The tokens the tests sign in with: one per role (NOVASCALE_TOKEN is the admin, as `npm start` names it). */
const TOKENS = {
  admin: "browser-test-admin-token",
  operate: "browser-test-operate-token",
  read: "browser-test-read-token",
};

function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

const chromium = findChromium();
if (chromium === undefined) {
  console.error("test:browser: no Chromium found (install Debian's package: apt-get install -y --no-install-recommends chromium, or set CHROMIUM_PATH)");
  process.exit(1);
}

const stateDir = mkdtempSync(join(tmpdir(), "novascale-browser-"));
const env = {
  ...process.env,
  NOVASCALE_STATE_DIR: stateDir,
  NOVASCALE_TOKEN: TOKENS.admin,
  NOVASCALE_TOKENS: JSON.stringify([
    { name: "browser-operator", token: TOKENS.operate, role: "operate" },
    { name: "browser-reader", token: TOKENS.read, role: "read" },
  ]),
  // Ticks every 3 s so the chart has history within seconds; the demo group is seeded by npm start.
  NOVASCALE_DEMO_TICK_SECONDS: process.env.NOVASCALE_DEMO_TICK_SECONDS ?? "3",
};
// The browser tests run against the fake cloud, never a configured one.
delete env.OS_AUTH_URL;
delete env.NOVASCALE_CLOUDS;
// A third cloud next to the demo's two: the fake cloud's second Keystone with a wrong password, so the Clouds panel
// has a failing cloud to show (its groups are the tests' own; test/browser/clouds.test.ts).
env.NOVASCALE_DEMO_CLOUDS = JSON.stringify({
  clouds: {
    broken: {
      auth: { auth_url: "{fake}/clouds/east/identity/v3", username: "demo", password: "wrong-password", project_name: "demo", user_domain_name: "Default", project_domain_name: "Default" },
      region_name: "RegionTwo",
    },
  },
});

const stack = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs")], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
let stackOutput = "";
stack.stdout.on("data", (d) => (stackOutput += d));
stack.stderr.on("data", (d) => (stackOutput += d));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stopStack() {
  if (stack.exitCode === null && stack.signalCode === null) {
    try {
      process.kill(-stack.pid, "SIGINT");
    } catch {
      // gone
    }
    for (let i = 0; i < 100 && stack.exitCode === null && stack.signalCode === null; i += 1) await sleep(100);
    if (stack.exitCode === null && stack.signalCode === null) {
      try {
        process.kill(-stack.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
}

/** Up means: the demo group has been ticked and has a history point (so the chart has data). */
async function waitForStack() {
  const started = Date.now();
  while (Date.now() - started < UP_LIMIT_MS) {
    if (stack.exitCode !== null) return false;
    try {
      const res = await fetch(`${BASE}/v1/groups/web/history?hours=1`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } });
      if (res.ok && (await res.json()).points.length >= 2) return true;
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  return false;
}

/**
 * The demo project's quota (10 instances, as a small real project) is too small for the whole suite: tests
 * remove their groups with `?force=true`, which leaves the servers running (novascale never deletes them),
 * so later tests met "instances exhausted" and waited minutes for boots that never fit.
 */
async function roomForTheSuite() {
  const res = await fetch(`${FAKE_CLOUD}/quotas/demo`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ instances: 500, cores: 1000, ram: 2_000_000 }) });
  if (!res.ok) throw new Error(`test:browser: could not raise the fake cloud's quota: HTTP ${res.status}`);
}

let code = 1;
try {
  console.log(`test:browser: starting the npm start stack (state in ${stateDir}) ...`);
  if (!(await waitForStack())) {
    console.error(`test:browser: the stack did not come up with the demo group's history within ${UP_LIMIT_MS / 1000} s\n--- npm start output ---\n${stackOutput}`);
  } else {
    if (!screenshot) await roomForTheSuite();
    const vitest = join(ROOT, "node_modules", "vitest", "vitest.mjs");
    const args = screenshot
      ? [join(ROOT, "test", "browser", "screenshot.ts")]
      : [vitest, "run", "--config", join(ROOT, "vitest.browser.config.ts"), ...process.argv.slice(2).filter((a) => a !== "--screenshot")];
    const run = spawnSync(process.execPath, args, {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, NOVASCALE_BROWSER_BASE: BASE, NOVASCALE_BROWSER_TOKENS: JSON.stringify(TOKENS), CHROMIUM_PATH: chromium },
    });
    code = run.status ?? 1;
    if (code !== 0 && process.env.CI) console.error(`--- npm start output ---\n${stackOutput}`);
  }
} finally {
  await stopStack();
}
process.exit(code);
