// The deploy bundle's zod (build/zod.mjs, wrangler.toml [alias]) offers everything real zod does except the locale bundles.
import { describe, expect, it } from "vitest";
import * as full from "zod";
import * as slim from "../../build/zod.mjs";

const names = (ns: object) => Object.keys(ns).sort();

describe("build/zod.mjs", () => {
  it("exports every name zod exports, but locales", () => {
    expect(names(full)).toContain("locales"); // the tests see the real zod, not the bundle's
    expect(names(slim)).toEqual(names(full).filter((n) => n !== "locales"));
  });

  it("z.core has every name zod's core has, but locales", () => {
    expect(names(slim.core)).toEqual(names(full.core).filter((n) => n !== "locales"));
  });

  it("validates and reports in English like zod", () => {
    const result = slim.z.object({ max: slim.z.number().int() }).safeParse({ max: "3" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(full.z.object({ max: full.z.number().int() }).safeParse({ max: "3" }).error?.issues[0]?.message);
  });
});
