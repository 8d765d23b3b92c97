// The fidelity tests' comparison: same keys and JSON value types, recursively (values themselves may differ).

function typeOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** Differences of keys and value types, as "path: what". */
export function shapeDifferences(recorded: unknown, actual: unknown, path = "$"): string[] {
  const want = typeOf(recorded);
  const got = typeOf(actual);
  if (want !== got) return [`${path}: recorded ${want}, emulator ${got}`];
  if (want === "array") {
    const r = recorded as unknown[];
    const a = actual as unknown[];
    if (r.length === 0 || a.length === 0) return [];
    // Element i is compared with recorded element i, or with the first when the recording is shorter.
    return a.flatMap((item, i) => shapeDifferences(r[i] ?? r[0], item, `${path}[${i}]`));
  }
  if (want !== "object") return [];
  const r = recorded as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const out: string[] = [];
  for (const key of Object.keys(r)) {
    if (!(key in a)) out.push(`${path}.${key}: missing in emulator`);
    else out.push(...shapeDifferences(r[key], a[key], `${path}.${key}`));
  }
  for (const key of Object.keys(a)) if (!(key in r)) out.push(`${path}.${key}: only in emulator`);
  return out;
}
