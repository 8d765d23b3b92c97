// `npm run bench:zod-mini`: zod's classic API (as the deploy bundle has it, build/zod.mjs) against zod/mini, for the same schemas: bundle size, cold import CPU, build and parse time.
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { REPO_ROOT } from "./worker-runner.ts";

const DIR = join(REPO_ROOT, ".tmp/bench-zod-mini");
/** Object schemas per bundle: novascale's src builds about 110 objects (82 z.object, 27 z.looseObject) of ~1,100 zod instances. */
const OBJECTS = 110;
const PROCESSES = 9;

// The same shapes twice: a field mix like novascale's (strings with bounds, ints, enums, arrays, records, optionals, a union).
// jitless: workerd forbids eval, so zod there never compiles its object fast path; Node would.
const CLASSIC = `import { z } from "zod";
z.config({ jitless: true });
export const schemas = [];
for (let i = 0; i < ${OBJECTS}; i++) schemas.push(z.object({
  id: z.string().min(1).max(255),
  name: z.string().min(1).optional(),
  count: z.number().int().min(0).max(10000),
  status: z.enum(["ACTIVE", "BUILD", "ERROR"]),
  tags: z.array(z.string().max(60)).max(50).default([]),
  metadata: z.record(z.string(), z.string()).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  ref: z.union([z.string(), z.object({ id: z.string() }).strict()]),
}).strict());`;
const MINI = `import * as z from "zod/mini";
z.config({ jitless: true });
export const schemas = [];
for (let i = 0; i < ${OBJECTS}; i++) schemas.push(z.strictObject({
  id: z.string().check(z.minLength(1), z.maxLength(255)),
  name: z.optional(z.string().check(z.minLength(1))),
  count: z.number().check(z.int(), z.minimum(0), z.maximum(10000)),
  status: z.enum(["ACTIVE", "BUILD", "ERROR"]),
  tags: z._default(z.array(z.string().check(z.maxLength(60))).check(z.maxLength(50)), []),
  metadata: z.optional(z.record(z.string(), z.string())),
  at: z.optional(z.iso.datetime({ offset: true })),
  ref: z.union([z.string(), z.strictObject({ id: z.string() })]),
}));`;

const RUNNER = `const file = process.argv[1 + 1];
const c0 = process.cpuUsage();
const t0 = performance.now();
const { schemas } = await import(file);
const importMs = (() => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1000; })();
const value = { id: "a", name: "b", count: 3, status: "ACTIVE", tags: ["x"], metadata: { k: "v" }, at: "2026-11-30T20:00:00Z", ref: { id: "i" } };
const p0 = performance.now();
for (const s of schemas) s.parse(value);
const firstParseMs = performance.now() - p0;
const p1 = performance.now();
for (let r = 0; r < 20; r++) for (const s of schemas) s.parse(value);
const parseMs = (performance.now() - p1) / 20;
console.log(JSON.stringify({ importMs, firstParseMs, parseMs, wallMs: performance.now() - t0 }));`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function bundle(name: string, source: string, aliasClassic: boolean): Promise<string> {
  const entry = join(DIR, `${name}.src.js`);
  const out = join(DIR, `${name}.js`);
  writeFileSync(entry, source);
  // Unminified ESM, as wrangler bundles; the classic side gets the deploy bundle's zod (wrangler.toml [alias]).
  await build({ entryPoints: [entry], outfile: out, bundle: true, format: "esm", platform: "neutral", logLevel: "warning", nodePaths: [join(REPO_ROOT, "node_modules")], ...(aliasClassic ? { alias: { zod: join(REPO_ROOT, "build/zod.mjs") } } : {}) });
  return out;
}

/** The comparison as a markdown table with its one-line heading (used by `npm run bench -- --only cpu` too). */
export async function compareZodMini(): Promise<string> {
  mkdirSync(DIR, { recursive: true });
  const runner = join(DIR, "run.mjs");
  writeFileSync(runner, RUNNER);
  const sides = [
    { label: "zod classic (build/zod.mjs, as deployed)", path: await bundle("classic", CLASSIC, true) },
    { label: "zod/mini", path: await bundle("mini", MINI, false) },
  ];
  const runs = new Map<string, Array<{ importMs: number; firstParseMs: number; parseMs: number }>>(sides.map((s) => [s.path, []]));
  // Fresh processes, interleaved: each import is a cold start of that bundle.
  for (let i = 0; i < PROCESSES; i++) {
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
      runs.get(side.path)!.push(JSON.parse(execFileSync(process.execPath, [runner, side.path], { encoding: "utf8" })));
    }
  }
  const lines = [
    `${OBJECTS} object schemas of 8 fields each (about 1,100 zod instances, novascale's count), median of ${PROCESSES} fresh Node ${process.versions.node} processes (V8, as workerd; zod jitless, as in workerd where eval is not allowed):`,
    "",
    "| zod | bundle KB | cold import CPU ms (load + build the schemas) | first parse of each schema ms | warm parse of each schema ms |",
    "|---|---:|---:|---:|---:|",
  ];
  for (const side of sides) {
    const r = runs.get(side.path)!;
    const f = (k: "importMs" | "firstParseMs" | "parseMs") => median(r.map((x) => x[k])).toFixed(2);
    lines.push(`| ${side.label} | ${(statSync(side.path).size / 1000).toFixed(0)} | ${f("importMs")} | ${f("firstParseMs")} | ${f("parseMs")} |`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  compareZodMini().then(
  (table) => {
    console.log(table);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
  );
}
