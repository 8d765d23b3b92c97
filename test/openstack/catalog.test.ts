// The service catalog: one shape for all Keystone eras, endpoint choice by type/interface/region, and a useful error.
import { describe, expect, it } from "vitest";
import { catalogFromBook, describeCatalog, endpointsFromV2, findEndpoint, normaliseInterface, requireEndpoint } from "../../src/openstack/catalog.ts";
import bookToken from "../fixtures/book/keystone-v2.0-token-book.json";

const twoRegions = [
  {
    type: "compute",
    name: "nova",
    endpoints: [
      { interface: "public" as const, region: "RegionOne", url: "https://one.example/v2.1/" },
      { interface: "public" as const, region: "RegionTwo", url: "https://two.example/v2.1" },
      { interface: "internal" as const, region: "RegionTwo", url: "http://two.internal/v2.1" },
    ],
  },
];

describe("interfaces", () => {
  it.each([
    ["public", "public"],
    ["publicURL", "public"],
    ["internalURL", "internal"],
    ["admin", "admin"],
    [undefined, "public"],
  ] as const)("%s -> %s", (given, wanted) => {
    expect(normaliseInterface(given)).toBe(wanted);
  });

  it("an unknown interface is refused", () => {
    expect(() => normaliseInterface("private")).toThrow(/unknown endpoint interface/);
  });
});

describe("lookup", () => {
  it("picks by region and interface, without a trailing slash", () => {
    expect(findEndpoint(twoRegions, { type: "compute", region: "RegionOne" })).toBe("https://one.example/v2.1");
    expect(findEndpoint(twoRegions, { type: "compute", region: "RegionTwo", interface: "internal" })).toBe("http://two.internal/v2.1");
  });

  it("without a region, the first endpoint of the interface", () => {
    expect(findEndpoint(twoRegions, { type: "compute" })).toBe("https://one.example/v2.1");
  });

  it("an absent service is undefined for optional lookups", () => {
    expect(findEndpoint(twoRegions, { type: "image" })).toBeUndefined();
  });

  it("the error names what was looked for and what the catalog has", () => {
    expect(() => requireEndpoint(twoRegions, { type: "compute", interface: "admin", region: "RegionTwo" }, "https://keystone.example/v3")).toThrow(
      expect.objectContaining({
        category: "config",
        detail: 'no compute endpoint (interface admin, region RegionTwo) in the service catalog; it has: compute "nova" (public RegionOne, public RegionTwo, internal RegionTwo). Check OS_REGION_NAME / OS_INTERFACE or set OS_ENDPOINT_OVERRIDES.',
      }),
    );
  });

  it("an empty catalog hints at an unscoped token", () => {
    expect(describeCatalog([])).toMatch(/scoped/);
  });
});

describe("v2.0 shapes", () => {
  it("one v2.0 entry gives one endpoint per *URL key", () => {
    expect(endpointsFromV2([{ region: "R", publicURL: "p", internalURL: "i" }])).toEqual([
      { interface: "public", region: "R", url: "p" },
      { interface: "internal", region: "R", url: "i" },
    ]);
  });

  it("the book's name-keyed catalog maps nova to compute and glance to image", () => {
    const catalog = catalogFromBook(bookToken.response.body.auth.serviceCatalog);
    expect(catalog.map((s) => [s.name, s.type])).toEqual([["glance", "image"], ["identity", "identity"], ["nova", "compute"]]);
    expect(findEndpoint(catalog, { type: "compute", interface: "admin", region: "RegionOne" })).toBe("http://10.0.2.15:8774/v1.1/openstack");
  });
});
