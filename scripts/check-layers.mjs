// The house's import rule, checked in `npm test`: each folder of src/ imports only from itself and from folders below it, and no file imports itself round a cycle.
// The order is stated once, here (docs/architecture.md explains it). Type-only imports count too: a type two rooms share belongs below both.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/** Lowest first. Folders on one row are siblings: neither may import the other. */
export const LAYERS = [
  ["src/core/model"],
  ["src/core/schedule"],
  ["src/core/scaling", "src/core/snapshots"],
  ["src/core"], // records.ts: what a reconcile or a policy run leaves behind, over both subjects
  ["src/core/notify"], // notification events derived from records, their formats and signatures
  ["src/config"],
  ["src/openstack", "src/store"],
  ["src/reconcile/shared"],
  ["src/reconcile/gateway"],
  ["src/reconcile/notify"], // the Notifier Durable Object: outbox, delivery by alarm, delivery log
  ["src/reconcile/rules"],
  ["src/reconcile/groups"],
  ["src/reconcile/policies"],
  ["src/reconcile/registry"],
  ["src/reconcile/tick"],
  ["src/reconcile/services"],
  ["src/api"],
  ["src"], // index.ts, the composition root
];

const units = LAYERS.flatMap((row, rank) => row.map((folder) => ({ folder, rank })));

/** The unit a file belongs to: the longest layer folder that contains it. */
function unitOf(file) {
  let best;
  for (const unit of units) {
    if (dirname(file) === unit.folder || dirname(file).startsWith(`${unit.folder}/`)) {
      if (best === undefined || unit.folder.length > best.folder.length) best = unit;
    }
  }
  return best;
}

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.\.?\/[^"']+)["']/g;

export function checkLayers(root) {
  const problems = [];
  const graph = new Map();
  for (const abs of sourceFiles(join(root, "src"))) {
    const file = relative(root, abs);
    const unit = unitOf(file);
    if (unit === undefined) {
      problems.push(`${file}: its folder is in no layer (add it to LAYERS in scripts/check-layers.mjs)`);
      continue;
    }
    const targets = [];
    for (const match of readFileSync(abs, "utf8").matchAll(SPECIFIER)) {
      const target = normalize(join(dirname(file), match[1]));
      targets.push(target);
      const to = unitOf(target);
      if (to === undefined || to.folder === unit.folder) continue;
      if (to.rank > unit.rank) problems.push(`${file} imports ${target}: ${to.folder} is above ${unit.folder}`);
      else if (to.rank === unit.rank) problems.push(`${file} imports ${target}: ${to.folder} and ${unit.folder} are siblings`);
    }
    graph.set(file, targets);
  }
  problems.push(...cycles(graph));
  return problems;
}

function cycles(graph) {
  const found = [];
  const state = new Map(); // 1 = on the path, 2 = done
  const path = [];
  const visit = (file) => {
    state.set(file, 1);
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 1) found.push(`import cycle: ${[...path.slice(path.indexOf(next)), next].join(" -> ")}`);
      else if (state.get(next) === undefined) visit(next);
    }
    path.pop();
    state.set(file, 2);
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(dirname(new URL(import.meta.url).pathname), "..");
  const problems = checkLayers(root);
  if (problems.length > 0) {
    console.error(`Layer check failed (${problems.length}):\n${problems.map((p) => `- ${p}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`layers: ok (${units.length} folders in ${LAYERS.length} layers, no cycles)`);
}
