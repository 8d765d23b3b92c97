// Each server's newest snapshot for /metrics: only active images novascale made, named by their source server; the newest wins.
import { describe, expect, it } from "vitest";
import { mergeNewest, newestSnapshots, stillPresent } from "../../../src/core/snapshots/snapshot-ages.ts";
import { image, server } from "./builders.ts";

describe("newestSnapshots", () => {
  it("picks each server's newest active image by its creation time", () => {
    const images = [image({ id: "old", source: "a", created: "2026-11-25T02:30:00Z" }), image({ id: "new", source: "a", created: "2026-11-26T02:30:00Z" })];
    expect(newestSnapshots([server({ id: "a" })], images).map((n) => n.imageId)).toEqual(["new"]);
  });

  it("ignores images that are not active yet or failed", () => {
    const images = [image({ id: "ok", source: "a", created: "2026-11-25T02:30:00Z" }), image({ id: "saving", source: "a", status: "saving", created: "2026-11-26T02:30:00Z" }), image({ id: "killed", source: "a", status: "killed", created: "2026-11-26T03:30:00Z" })];
    expect(newestSnapshots([server({ id: "a" })], images).map((n) => n.imageId)).toEqual(["ok"]);
  });

  it("ignores images novascale did not make, even naming the server as source", () => {
    expect(newestSnapshots([server({ id: "a" })], [image({ id: "hand", source: "a", madeBy: null })])).toEqual([]);
  });

  it("reports only the given servers, with their group tag (empty for a server of no group)", () => {
    const images = [image({ id: "i-a", source: "a" }), image({ id: "i-b", source: "b" }), image({ id: "i-gone", source: "gone" })];
    const out = newestSnapshots([server({ id: "a" }), server({ id: "b", group: null })], images);
    expect(out.map((n) => [n.serverId, n.group, n.serverName])).toEqual([
      ["a", "web", "srv-a"],
      ["b", "", "srv-b"],
    ]);
  });
});

describe("mergeNewest / stillPresent", () => {
  const entry = (serverId: string, imageId: string, created: string) => ({ serverId, serverName: serverId, group: "web", imageId, imageName: imageId, created });

  it("keeps one entry per server, the newest of any source", () => {
    const merged = mergeNewest([[entry("a", "group", "2026-11-26T02:30:00Z")], [entry("a", "policy", "2026-11-26T03:00:00Z"), entry("b", "p-b", "2026-11-26T03:00:00Z")]]);
    expect(merged.map((n) => [n.serverId, n.imageId])).toEqual([
      ["a", "policy"],
      ["b", "p-b"],
    ]);
  });

  it("drops servers that are no longer present", () => {
    expect(stillPresent([entry("a", "x", "2026-11-26T02:30:00Z"), entry("b", "y", "2026-11-26T02:30:00Z")], [server({ id: "b" })]).map((n) => n.serverId)).toEqual(["b"]);
  });
});
