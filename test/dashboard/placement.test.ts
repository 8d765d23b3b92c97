// The dashboard's many-clouds rules: the cloud/region filter and its URL form, the selects' choices, a cloud-region's state word, /limits as text.
import { describe, expect, it } from "vitest";
import { byCloudState, cloudState, filterChoices, filterFromQuery, hashForFilter, limitsParts, matchesPlacement, NO_REGION, placedOf } from "../../dashboard/src/placement.ts";
import type { CloudView } from "../../dashboard/src/types.ts";

const all = { cloud: "", region: "" };
const cloud = (name: string, region: string | null, more: Partial<CloudView> = {}): CloudView => ({ name, region, source: "NOVASCALE_CLOUDS", notes: [], state: "unknown", groups: [], policies: [], ...more });

describe("the cloud/region filter", () => {
  it("round-trips through the hash's query, so a reload keeps it; 'all' is the plain #/", () => {
    const filter = { cloud: "east", region: "RegionTwo" };
    const hash = hashForFilter(filter);
    expect(hash).toBe("#/?cloud=east&region=RegionTwo");
    expect(filterFromQuery(new URLSearchParams(hash.split("?")[1]))).toEqual(filter);
    expect(hashForFilter(all)).toBe("#/");
    expect(filterFromQuery(new URLSearchParams(""))).toEqual(all);
  });

  it("passes only rows of the chosen cloud and region; an empty part passes everything", () => {
    const east = { cloud: "east", region: "RegionTwo" };
    expect(matchesPlacement(east, all)).toBe(true);
    expect(matchesPlacement(east, { cloud: "default", region: "" })).toBe(false);
    expect(matchesPlacement(east, { cloud: "", region: "RegionOne" })).toBe(false);
    expect(matchesPlacement(east, { cloud: "east", region: "RegionTwo" })).toBe(true);
  });

  it("chooses a cloud that names no region with the NO_REGION choice", () => {
    expect(matchesPlacement({ cloud: "default", region: null }, { cloud: "", region: NO_REGION })).toBe(true);
    expect(matchesPlacement({ cloud: "default", region: "RegionOne" }, { cloud: "", region: NO_REGION })).toBe(false);
  });

  it("reads a status from before many clouds (no cloud, no region) as the cloud `default` with no region", () => {
    expect(placedOf({})).toEqual({ cloud: "default", region: null });
  });
});

describe("the filter's choices", () => {
  const placed = [
    { cloud: "east", region: "RegionTwo" },
    { cloud: "default", region: "RegionOne" },
    { cloud: "east", region: "RegionTwo" },
    { cloud: "east", region: "RegionThree" },
  ];

  it("are every cloud and region the data names, once each, sorted", () => {
    expect(filterChoices(placed, all)).toEqual({ clouds: ["default", "east"], regions: ["RegionOne", "RegionThree", "RegionTwo"] });
  });

  it("offer only the chosen cloud's regions", () => {
    expect(filterChoices(placed, { cloud: "default", region: "" }).regions).toEqual(["RegionOne"]);
  });

  it("keep a chosen value the data does not (yet) name, so the select shows what is applied", () => {
    expect(filterChoices([], { cloud: "gone", region: "RegionX" })).toEqual({ clouds: ["gone"], regions: ["RegionX"] });
  });
});

describe("a cloud-region's state", () => {
  it("is ok after a complete listing, failing after a failed one, unknown before any", () => {
    expect([cloudState(cloud("a", null, { state: "up" })), cloudState(cloud("a", null, { state: "down" })), cloudState(cloud("a", null))]).toEqual(["ok", "failing", "unknown"]);
  });

  it("is failing when its settings cannot be used, even before a tick", () => {
    expect(cloudState(cloud("a", null, { problem: "clouds.a.auth.auth_url: required" }))).toBe("failing");
  });

  it("sorts failing cloud-regions first, then unknown, then ok, by name within each", () => {
    const sorted = [cloud("a", "R1", { state: "up" }), cloud("c", "R1"), cloud("b", "R2", { state: "down" }), cloud("a", "R0", { state: "down" })].sort(byCloudState);
    expect(sorted.map((c) => `${c.name}/${c.region}`)).toEqual(["a/R0", "b/R2", "c/R1", "a/R1"]);
  });
});

describe("limitsParts", () => {
  it("pairs Nova's used and max figures by name, says unlimited for a null max, and names any other figure that is set", () => {
    const parts = limitsParts({ maxTotalInstances: 10, totalInstancesUsed: 3, maxTotalCores: null, totalCoresUsed: 3, maxTotalRAMSize: 51200, totalRAMUsed: 1536, maxServerMeta: 128, maxImageMeta: null });
    expect(parts).toEqual(["instances 3 of 10", "cores 3 of unlimited", "RAM 1536 of 51200 MB", "maxServerMeta 128"]);
  });
});
