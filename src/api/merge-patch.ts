// JSON Merge Patch (RFC 7396) as a pure function: null deletes a key, objects merge, anything else (arrays too) replaces.

/** A plain JSON object (not an array, not null). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * RFC 7396 section 2 `MergePatch(Target, Patch)`. Neither argument is changed; the result shares no objects
 * with the patch that the caller could later mutate through it (patch values are copied in).
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      // Defined as an own data property: a "__proto__" key stays a key and never reaches the prototype.
      Object.defineProperty(result, key, { value: mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value), enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}
