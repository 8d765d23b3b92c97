// The labels a group's servers are booted with (Nova tags and description): who manages a server, never membership.
import { describe, expect, it } from "vitest";
import { serverLabels } from "../../../src/core/model/membership.ts";

describe("serverLabels", () => {
  it("tags every server `novascale` and `novascale:<group>`", () => {
    expect(serverLabels("web").tags).toEqual(["novascale", "novascale:web"]);
  });

  it("describes the server as managed by its group", () => {
    expect(serverLabels("web").description).toBe("managed by novascale group web");
  });

  it("keeps every tag within Nova's 60 characters, also for the longest group name (63)", () => {
    const name = "a".repeat(63);
    for (const tag of serverLabels(name).tags) expect(tag.length).toBeLessThanOrEqual(60);
  });

  it("gives two long names that share their first 50 characters different tags", () => {
    const stem = "b".repeat(55);
    expect(serverLabels(`${stem}-one`).tags[1]).not.toBe(serverLabels(`${stem}-two`).tags[1]);
  });

  it("leaves a name that fits whole (50 characters) uncut", () => {
    const name = "c".repeat(50);
    expect(serverLabels(name).tags[1]).toBe(`novascale:${name}`);
  });
});
