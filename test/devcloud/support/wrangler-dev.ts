// Runs the real Worker under `wrangler dev` on 127.0.0.1 (random ports, own state dir) and fires its cron at chosen times.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./devcloud.ts";

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const wranglerBin = join(projectRoot, "node_modules", "wrangler", "bin", "wrangler.js");

/** Local paths that fire a scheduled event; wrangler 4.15x has the first, newer ones the second. */
const SCHEDULED_PATHS = ["/cdn-cgi/local/scheduled", "/cdn-cgi/handler/scheduled"];

export interface WorkerUnderTest {
  /** e.g. http://127.0.0.1:43121 */
  readonly url: string;
  /** fetch() against the worker; `path` starts with '/'. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** One cron tick with scheduledTime = `time` (the tick plans for that moment, not for the clock). Throws unless the handler succeeded. */
  fireCron(time: Date, cron?: string): Promise<void>;
  /** Everything wrangler and the worker printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Vars and secrets for the worker: written to an env file (wrangler shows them as hidden), overriding wrangler.toml [vars]. */
  vars: Record<string, string>;
  readyTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function envFileLine(name: string, value: string): string {
  // dotenv: a single-quoted value is taken literally (JSON's double quotes included), up to the next single quote.
  if (/[\n']/.test(value)) throw new Error(`env value for ${name} contains a newline or a single quote`);
  return `${name}='${value}'`;
}

export async function startWorker(options: StartOptions): Promise<WorkerUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), "novascale-e2e-"));
  const envFile = join(dir, "worker.env");
  await writeFile(envFile, Object.entries(options.vars).map(([k, v]) => envFileLine(k, v)).join("\n") + "\n", { mode: 0o600 });
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    wranglerBin, "dev",
    "--config", join(projectRoot, "wrangler.toml"),
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", join(dir, "state"),
    "--env-file", envFile,
    "--show-interactive-dev-session=false",
    "--log-level", "info",
  ];
  let output = "";
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: projectRoot,
    // Own process group, so stop() also ends the workerd that wrangler starts.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exited = `wrangler dev exited (code ${code}, signal ${signal})`;
      resolve();
    });
  });

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === undefined && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exitedPromise, sleep(10_000)]);
      if (exited === undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`${exited} before it answered /healthz:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer /healthz on ${url} in time:\n${output}`);
    }
    await sleep(250);
  }

  let scheduledPath: string | undefined;
  return {
    url,
    request: (path, init) => fetch(`${url}${path}`, init),
    async fireCron(time, cron = "* * * * *") {
      const query = `cron=${encodeURIComponent(cron)}&time=${time.getTime()}&format=json`;
      for (const path of scheduledPath === undefined ? SCHEDULED_PATHS : [scheduledPath]) {
        const res = await fetch(`${url}${path}?${query}`);
        const text = await res.text();
        let outcome: string | undefined;
        try {
          outcome = (JSON.parse(text) as { outcome?: string }).outcome;
        } catch {
          outcome = undefined;
        }
        if (outcome === undefined) continue; // not the local trigger path (the worker's own 404)
        scheduledPath = path;
        if (outcome !== "ok") throw new Error(`scheduled handler at ${time.toISOString()}: outcome ${outcome}\n${output.slice(-4000)}`);
        return;
      }
      throw new Error(`no local scheduled trigger path answered (${SCHEDULED_PATHS.join(", ")})`);
    },
    output: () => output,
    stop,
  };
}
