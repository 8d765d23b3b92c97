// The pure JSON Merge Patch (RFC 7396): the RFC's appendix A table, and that neither input is changed.
import { describe, expect, it } from "vitest";
import { mergePatch } from "../../src/api/merge-patch.ts";

// RFC 7396 appendix A, row by row: [original, patch, result].
const APPENDIX_A: Array<[unknown, unknown, unknown]> = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe("mergePatch (RFC 7396)", () => {
  it.each(APPENDIX_A)("appendix A: %j patched with %j is %j", (original, patch, result) => {
    expect(mergePatch(original, patch)).toEqual(result);
  });

  it("replaces an array whole instead of merging its items", () => {
    expect(mergePatch({ schedules: [{ cron: "a" }, { cron: "b" }] }, { schedules: [{ cron: "c" }] })).toEqual({ schedules: [{ cron: "c" }] });
  });

  it("changes neither the target nor the patch", () => {
    const target = { a: { b: 1, c: [1] } };
    const patch = { a: { b: null, d: { e: 2 } } };
    const before = structuredClone([target, patch]);
    mergePatch(target, patch);
    expect([target, patch]).toEqual(before);
  });

  it("keeps a '__proto__' key as a plain key, never as the result's prototype", () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const result = mergePatch({}, patch) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(["__proto__"]);
  });
});
