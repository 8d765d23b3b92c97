// Smoke check of `npm start` with the fake cloud: /healthz within 30 s, the demo group's servers on the emulator within 2 minutes.
// Run: node_modules/.bin/node scripts/start-smoke.mjs   (ports via NOVASCALE_PORT / NOVASCALE_FAKE_CLOUD_PORT)
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PORT = Number(process.env.NOVASCALE_PORT ?? 8787);
const FAKE_PORT = Number(process.env.NOVASCALE_FAKE_CLOUD_PORT ?? 8790);
const HEALTH_LIMIT_MS = 30_000;
const SERVERS_LIMIT_MS = 120_000;

const env = { ...process.env, NOVASCALE_PORT: String(PORT), NOVASCALE_FAKE_CLOUD_PORT: String(FAKE_PORT) };
// Without OS_AUTH_URL npm start uses the fake cloud; a configured cloud is not what this checks.
delete env.OS_AUTH_URL;
const started = Date.now();
const child = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs")], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
let output = "";
child.stdout.on("data", (d) => (output += d));
child.stderr.on("data", (d) => (output += d));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(limitMs, check) {
  while (Date.now() - started < limitMs) {
    if (child.exitCode !== null) return undefined;
    try {
      if (await check()) return Date.now() - started;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  return undefined;
}

async function stop() {
  try {
    process.kill(-child.pid, "SIGINT");
  } catch {
    return;
  }
  for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i += 1) await sleep(100);
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
}

const healthMs = await until(HEALTH_LIMIT_MS, async () => (await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok);
const serversMs =
  healthMs === undefined
    ? undefined
    : await until(SERVERS_LIMIT_MS, async () => {
        const body = await (await fetch(`http://127.0.0.1:${FAKE_PORT}/_fake/servers`)).json();
        return body.servers.filter((s) => s.metadata["novascale:group"] === "web" && s.status === "ACTIVE").length >= 2;
      });
await stop();

console.log(`GET /healthz answered after: ${healthMs === undefined ? "no answer" : `${(healthMs / 1000).toFixed(1)} s`} (limit ${HEALTH_LIMIT_MS / 1000} s)`);
console.log(`demo group 'web' ACTIVE on the fake cloud after: ${serversMs === undefined ? "never" : `${(serversMs / 1000).toFixed(1)} s`} (limit ${SERVERS_LIMIT_MS / 1000} s)`);
const ok = healthMs !== undefined && serversMs !== undefined;
if (!ok) console.log(`--- npm start output ---\n${output}`);
process.exit(ok ? 0 : 1);
