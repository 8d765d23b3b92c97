// Finding an image or flavor by name: exact, unique and usable, or an error that lists what came close.
import { OpenStackError } from "./errors.ts";

/**
 * An unknown name costs one bounded look for suggestions, not a walk through every image of the cloud:
 * at most this many pages of SUGGESTION_PAGE_SIZE (where the API takes a page size) are read.
 */
export const SUGGESTION_PAGES = 1;
export const SUGGESTION_PAGE_SIZE = 200;

export interface FindByNameOptions<T> {
  /** "image" or "flavor", for the message. */
  what: string;
  /** The listing URL, for the error. */
  where: string;
  isUsable: (item: T) => boolean;
  unusableWhy: (item: T) => string;
}

/**
 * Names are matched exactly (case and all); the match must be unique among usable items.
 * Anything else is a `config` error: retrying does not help until the rules or the cloud change.
 */
export function findByName<T extends { id: string; name: string }>(items: readonly T[], name: string, options: FindByNameOptions<T>): T {
  const exact = items.filter((i) => i.name === name);
  const usable = exact.filter(options.isUsable);
  if (usable.length === 1) return usable[0]!;
  const fail = (kind: string, message: string) =>
    new OpenStackError({ method: "GET", url: options.where, status: 0, kind, message, category: "config" });
  if (usable.length > 1) {
    throw fail("ambiguousName", `${usable.length} ${options.what}s are named "${name}" (ids ${usable.map((i) => i.id).join(", ")}); refer to one by id`);
  }
  if (exact.length > 0) {
    const states = exact.map((i) => `${i.id}: ${options.unusableWhy(i)}`).join(", ");
    throw fail("notUsable", `the ${options.what} "${name}" exists but cannot be used (${states})`);
  }
  const near = nearMatches(items.map((i) => i.name), name);
  const hint =
    near.length > 0
      ? `; did you mean ${near.map((n) => `"${n}"`).join(", ")}?`
      : items.length > 0
        ? `; the cloud has ${items.slice(0, 8).map((i) => `"${i.name}"`).join(", ")}${items.length > 8 ? ", ..." : ""}`
        : `; the cloud lists no ${options.what}s`;
  throw fail("nameNotFound", `no ${options.what} is named "${name}"${hint}`);
}

/** Names that differ only in case, contain one another, or are within a small edit distance; best first, at most 5. */
export function nearMatches(names: readonly string[], wanted: string): string[] {
  const w = wanted.toLowerCase();
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of new Set(names)) {
    const n = name.toLowerCase();
    let score: number | undefined;
    if (n === w) score = 0;
    else if (n.includes(w) || w.includes(n)) score = 1 + Math.abs(n.length - w.length) / 100;
    else {
      const d = editDistance(n, w);
      if (d <= Math.max(2, Math.floor(w.length / 4))) score = 2 + d;
    }
    if (score !== undefined && name !== "") scored.push({ name, score });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, 5)
    .map((s) => s.name);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
