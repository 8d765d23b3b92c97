// `npm run bench:timeline`: what the read routes' schedule work costs (rules parse, timeline 336 h, status's next changes, desiredCount), per rule shape.
// Prints figures; asserts nothing. `-- --src DIR` measures another checkout's src/ (e.g. /work/main/src) for a before/after.
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";

const { values } = parseArgs({ options: { src: { type: "string" }, runs: { type: "string" } } });
const src = values.src ?? new URL("../../src", import.meta.url).pathname;
// core/ is foldered by subject since issue 25; an older checkout keeps the same file flat in core/.
const coreModule = (path: string): string => (existsSync(`${src}/core/${path}`) ? `${src}/core/${path}` : `${src}/core/${path.split("/").pop()}`);
const runs = Number(values.runs ?? 5);

interface Core {
  parse: (input: unknown) => unknown;
  /** The status's "next changes" (24 h, at most 5) as the src computes them. */
  nextChanges: (rules: unknown, from: Date) => unknown;
  timeline: (rules: unknown, override: undefined, from: Date, hours: number) => unknown[];
  desiredCount: (rules: unknown, override: undefined, now: Date) => unknown;
}

const config = (await import(`${src}/config/group.ts`)) as { GroupRulesSchema: { parse: (i: unknown) => unknown } };
const timelineModule = (await import(coreModule("schedule/timeline.ts"))) as {
  timeline: Core["timeline"];
  changePoints?: (rules: unknown, override: undefined, from: Date, hours: number, opts: object, maxPoints: number) => unknown;
};
const desiredModule = (await import(coreModule("schedule/desired.ts"))) as { desiredCount: Core["desiredCount"] };
const { changePoints } = timelineModule;
const core: Core = {
  parse: (i) => config.GroupRulesSchema.parse(i),
  // Before change points existed, status walked the whole 24 h and kept the first five.
  nextChanges: changePoints !== undefined ? (r, from) => changePoints(r, undefined, from, 24, {}, 5) : (r, from) => timelineModule.timeline(r, undefined, from, 24).slice(0, 6),
  timeline: timelineModule.timeline,
  desiredCount: desiredModule.desiredCount,
};

const base = { image: "img", flavor: "flv", max: 100, default: 1 };
const CASES: Array<[string, Record<string, unknown>]> = [
  ["one daily schedule", { schedules: [{ cron: "0 8 * * *", timezone: "Europe/Berlin", desired: 4 }] }],
  ["office hours as two crons", { schedules: [{ cron: "0 8 * * 1-5", timezone: "Europe/Berlin", desired: 4 }, { cron: "0 20 * * *", timezone: "Europe/Berlin", desired: 1 }] }],
  ["50 x '* * * * *', same value", { schedules: Array.from({ length: 50 }, () => ({ cron: "* * * * *", desired: 3 })) }],
  ["50 x '* * * * *', values 0..49", { schedules: Array.from({ length: 50 }, (_, i) => ({ cron: "* * * * *", desired: i })) }],
  // Issue 24: the zone of each entry was checked by building an Intl.DateTimeFormat (twice per entry) on every parse.
  ["50 x '* * * * *' in Europe/Berlin, values 0..49", { schedules: Array.from({ length: 50 }, (_, i) => ({ cron: "* * * * *", timezone: "Europe/Berlin", desired: i })) }],
  ["'* * * * *' 3 vs '*/2 * * * *' 5 (changes every minute)", { schedules: [{ cron: "* * * * *", desired: 3 }, { cron: "*/2 * * * *", desired: 5 }] }],
  [
    "windows + Christmas (Mon-Fri 08-20: 4, Sat 10-14: 2, 24-25 Dec: 0)",
    {
      schedules: [
        { window: "Mon-Fri 08:00-20:00", timezone: "Europe/Berlin", desired: 4 },
        { window: "Sat 10:00-14:00", timezone: "Europe/Berlin", desired: 2 },
      ],
      exceptions: [{ name: "christmas", dates: ["2026-12-24", "2026-12-25"], timezone: "Europe/Berlin", desired: 0 }],
    },
  ],
];

const FROM = new Date("2026-12-14T09:00:00Z");
/** Median milliseconds of `runs` calls (after one warm-up call that also fills the pattern caches). */
function median(fn: () => unknown): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

console.log(`schedule read-route costs, median of ${runs} runs, Node ${process.versions.node}, src ${src}`);
// Every read route parses the stored rules (store/ and the registry validate them), so the parse is part of its cost.
console.log("| rules | rules parse (ms) | timeline 336 h (ms) | points | next changes 24 h (ms) | desiredCount (ms) |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const [label, input] of CASES) {
  let rules: unknown;
  try {
    rules = core.parse({ ...base, ...input });
  } catch {
    console.log(`| ${label} | not supported by this src | | | | |`);
    continue;
  }
  const parse = median(() => core.parse({ ...base, ...input }));
  let points = 0;
  const tl = median(() => (points = core.timeline(rules, undefined, FROM, 336).length));
  const next = median(() => core.nextChanges(rules, FROM));
  let minute = 0;
  const now = median(() => core.desiredCount(rules, undefined, new Date(FROM.getTime() + (minute += 7) * 60_000)));
  console.log(`| ${label} | ${parse.toFixed(2)} | ${tl.toFixed(1)} | ${points} | ${next.toFixed(1)} | ${now.toFixed(2)} |`);
}
