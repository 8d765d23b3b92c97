// `npm run bench:calendars`: what reading pasted iCalendar costs: ical.js's share of the Worker bundle, and parse + expand time per real calendar.
// Prints figures; asserts nothing. The calendars are the 190 Thunderbird ones vendored in test/core/schedule/fixtures/thunderbird/.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { isCalendarDay } from "../../src/core/schedule/calendar.ts";
import { parseIcs, type CalendarDays } from "../../src/core/schedule/ics.ts";
import { dayNumber } from "../../src/core/schedule/zoned.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: "string" }, "no-bundle": { type: "boolean" } } });
const runs = Number(values.runs ?? 5);

/** The vendored calendars: {path: text}, from the base64 gzip'd tar. */
function calendars(): Map<string, string> {
  const b64 = readFileSync(join(ROOT, "test/core/schedule/fixtures/thunderbird/calendars.tar.gz.b64"), "utf8");
  const tar = gunzipSync(Buffer.from(b64.replace(/\s+/g, ""), "base64"));
  const out = new Map<string, string>();
  const ascii = (from: number, length: number) => tar.subarray(from, from + length).toString("latin1").replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = ascii(at, 100);
    if (name === "") break;
    const size = parseInt(ascii(at + 124, 12).trim(), 8);
    const prefix = ascii(at + 345, 155);
    out.set(prefix === "" ? name : `${prefix}/${name}`, new TextDecoder().decode(tar.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function bundle(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), "novascale-bundle-"));
  try {
    const args = [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out, "--metafile", join(out, "meta.json")];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.on("data", (c: Buffer) => (text += c.toString()));
      child.stderr.on("data", (c: Buffer) => (text += c.toString()));
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler failed (${code}):\n${text.slice(-2000)}`))));
    });
    const meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8")) as { outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }> };
    const [file, output] = Object.entries(meta.outputs).find(([f]) => f.endsWith(".js"))!;
    const ical = Object.entries(output.inputs).filter(([p]) => p.includes("node_modules/ical.js/")).reduce((n, [, v]) => n + v.bytesInOutput, 0);
    const own = Object.entries(output.inputs).filter(([p]) => p.includes("src/core/schedule/ics.ts")).reduce((n, [, v]) => n + v.bytesInOutput, 0);
    const outFile = join(out, file.split("/").pop()!);
    const text = readFileSync(outFile);
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log("Worker bundle (wrangler deploy --dry-run --outdir; not minified, as deployed by default):");
    console.log(`  total          ${kib(statSync(outFile).size)}   gzip ${kib(gzipSync(text).length)}`);
    console.log(`  of it ical.js  ${kib(ical)}   (src/core/schedule/ics.ts: ${kib(own)})`);
    const min = readFileSync(join(ROOT, "node_modules/ical.js/dist/ical.min.js"));
    console.log(`  ical.js 2.2.1 as shipped minified: ${kib(min.length)}, gzip ${kib(gzipSync(min).length)} (Workers' limit: 3 MiB gzip on the free plan)`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cpu(): void {
  const all = calendars();
  const first = dayNumber(2026, 1, 1);
  const last = dayNumber(2028, 12, 31);
  const rows: Array<{ name: string; bytes: number; parse: number; expand: number; today: number }> = [];
  for (const [name, text] of all) {
    const parses: number[] = [];
    const expands: number[] = [];
    const todays: number[] = [];
    for (let r = 0; r < runs; r += 1) {
      // A fresh text each run (parseIcs memoises by text): the cost of the first read in an isolate.
      const fresh = `${text}\r\n${" ".repeat(r + 1)}`;
      let t = performance.now();
      const cal = parseIcs(fresh) as CalendarDays;
      parses.push(performance.now() - t);
      t = performance.now();
      for (const zone of ["UTC", "Europe/Berlin"]) for (let d = first; d <= last; d += 1) isCalendarDay(cal, d, zone);
      expands.push(performance.now() - t);
      // What a tick asks once the year is expanded: is today a calendar day?
      t = performance.now();
      for (let i = 0; i < 1000; i += 1) isCalendarDay(cal, first + 200, "UTC");
      todays.push((performance.now() - t) / 1000);
    }
    rows.push({ name, bytes: Buffer.byteLength(text), parse: median(parses), expand: median(expands), today: median(todays) });
  }
  const total = (k: "parse" | "expand") => rows.reduce((n, r) => n + r[k], 0);
  console.log(`\nParse + expand, ${rows.length} calendars, median of ${runs} runs each (Node ${process.versions.node}):`);
  console.log(`  parse (parseIcs, first read):           median ${median(rows.map((r) => r.parse)).toFixed(2)} ms, max ${Math.max(...rows.map((r) => r.parse)).toFixed(1)} ms, all 190 ${total("parse").toFixed(0)} ms`);
  console.log(`  expand 2026-2028 in two zones (6 zone-years): median ${median(rows.map((r) => r.expand)).toFixed(2)} ms, max ${Math.max(...rows.map((r) => r.expand)).toFixed(1)} ms`);
  console.log(`  is-today lookup once expanded:          median ${(median(rows.map((r) => r.today)) * 1000).toFixed(2)} µs`);
  console.log("  slowest (parse + expand):");
  for (const r of [...rows].sort((a, b) => b.parse + b.expand - (a.parse + a.expand)).slice(0, 5)) {
    console.log(`    ${r.name.padEnd(36)} ${String(r.bytes).padStart(7)} bytes  parse ${r.parse.toFixed(1)} ms  expand ${r.expand.toFixed(1)} ms`);
  }
}

if (values["no-bundle"] !== true) await bundle();
cpu();
