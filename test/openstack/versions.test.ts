// Compute version discovery and microversion negotiation, and the behaviour switches that follow from the version.
import { describe, expect, it } from "vitest";
import { featuresFor, isLegacyComputeUrl, negotiate, parseMicroversion } from "../../src/openstack/compute/versions.ts";
import emptyList from "../fixtures/real-zed/nova-list-empty.json";
import versionsRoot from "../fixtures/real-zed/nova-versions-root.json";
import zedToken from "../fixtures/real-zed/keystone-token-demo.json";
import versionDoc from "../fixtures/real-zed/nova-version-v2.1.json";
import { answer, json, replay, zedSettings } from "./support/replay.ts";
import { credentialsFromSettings } from "../../src/openstack/keystone.ts";
import { Session } from "../../src/openstack/session.ts";
import { zedNova, zedSession } from "./support/zed.ts";
import { createNovaClient } from "../../src/openstack/compute/client.ts";

const v = (s: string) => {
  const p = parseMicroversion(s);
  if (p === "latest") throw new Error("not a number");
  return p;
};

describe("negotiation", () => {
  it("the recorded Zed (2.1–2.93): the highest both support is 2.93", () => {
    expect(negotiate(v("2.1"), v("2.93")).header).toBe("2.93");
  });

  it("a cloud newer than this client gets this client's maximum", () => {
    expect(negotiate(v("2.1"), v("2.120")).header).toBe("2.96");
  });

  it("'latest' is sent as is and behaves as the cloud's maximum", () => {
    const f = negotiate(v("2.1"), v("2.40"), "latest");
    expect(f.header).toBe("latest");
    expect(f.version).toEqual({ major: 2, minor: 40 });
  });

  it("'2.latest' is refused before any request (Nova answers it with 400)", () => {
    expect(() => parseMicroversion("2.latest")).toThrow(/2\.latest/);
  });

  it("an explicit microversion outside the cloud's range is a config error", () => {
    expect(() => negotiate(v("2.1"), v("2.40"), "2.60")).toThrow(expect.objectContaining({ category: "config", kind: "microversionUnavailable" }));
  });

  it("comparison is numeric: 2.100 is newer than 2.96", () => {
    expect(negotiate(v("2.1"), v("2.100")).header).toBe("2.96");
    expect(negotiate(v("2.1"), v("2.9")).header).toBe("2.9");
  });
});

describe("behaviour switches", () => {
  it.each([
    ["2.25", { serverTags: false, imageProxy: true, networksRequired: false, createImageIdInBody: false, tagsAtBoot: false }],
    ["2.26", { serverTags: true, imageProxy: true, networksRequired: false, createImageIdInBody: false, tagsAtBoot: false }],
    ["2.35", { serverTags: true, imageProxy: true, networksRequired: false, createImageIdInBody: false, tagsAtBoot: false }],
    ["2.36", { serverTags: true, imageProxy: false, networksRequired: false, createImageIdInBody: false, tagsAtBoot: false }],
    ["2.37", { serverTags: true, imageProxy: false, networksRequired: true, createImageIdInBody: false, tagsAtBoot: false }],
    ["2.44", { serverTags: true, imageProxy: false, networksRequired: true, createImageIdInBody: false, tagsAtBoot: false }],
    ["2.45", { serverTags: true, imageProxy: false, networksRequired: true, createImageIdInBody: true, tagsAtBoot: false }],
    ["2.52", { serverTags: true, imageProxy: false, networksRequired: true, createImageIdInBody: true, tagsAtBoot: true, personality: true }],
    ["2.57", { serverTags: true, imageProxy: false, networksRequired: true, createImageIdInBody: true, tagsAtBoot: true, personality: false }],
  ])("at %s", (version, switches) => {
    expect(featuresFor(v(version), version)).toMatchObject(switches);
  });

  it("the legacy era (no microversions) has the image proxy and sends no header", () => {
    expect(featuresFor(undefined, undefined)).toMatchObject({ era: "legacy", header: undefined, imageProxy: true, networksRequired: false, serverTags: false });
  });
});

describe("discovery", () => {
  it("reads the version document at the endpoint and sends both microversion headers afterwards", async () => {
    const { r, nova } = zedNova([answer(emptyList)]);
    await nova.servers.list(undefined, { detail: false });
    expect(r.requests[1]).toMatchObject({ method: "GET", url: "http://127.0.0.1:8774/v2.1/" });
    expect(r.requests[2]!.headers["x-openstack-nova-api-version"]).toBe("2.93");
    expect(r.requests[2]!.headers["openstack-api-version"]).toBe("compute 2.93");
  });

  it("discovers once per client", async () => {
    const { r, nova } = zedNova([answer(emptyList), answer(emptyList)]);
    await nova.servers.list(undefined, { detail: false });
    await nova.servers.list(undefined, { detail: false });
    expect(r.requests.filter((q) => q.url === "http://127.0.0.1:8774/v2.1/")).toHaveLength(1);
  });

  it("falls back to the root version list when the endpoint has no document", async () => {
    const { r, session } = zedSession([answer(zedToken), json(404, { itemNotFound: { code: 404, message: "nope" } }), answer(versionsRoot), answer(emptyList)]);
    const nova = createNovaClient(session);
    expect((await nova.features()).header).toBe("2.93");
    expect(r.requests[2]!.url).toBe("http://127.0.0.1:8774/");
  });

  it("with no version document anywhere, the client speaks plain 2.1 without microversion headers", async () => {
    const missing = json(404, { itemNotFound: { code: 404, message: "nope" } });
    const { r, session } = zedSession([answer(zedToken), missing, missing, answer(emptyList)]);
    const nova = createNovaClient(session);
    await nova.servers.list(undefined, { detail: false });
    expect(r.requests.map((q) => q.url).slice(1)).toEqual(["http://127.0.0.1:8774/v2.1/", "http://127.0.0.1:8774/", "http://127.0.0.1:8774/v2.1/servers"]);
    expect(r.requests[3]!.headers["x-openstack-nova-api-version"]).toBeUndefined();
  });

  it.each([
    ["401 (a proxy guarding the version document)", json(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } }), 2],
    ["403", json(403, { forbidden: { code: 403, message: "Access denied" } }), 1],
    ["503, retried until given up", json(503, { serviceUnavailable: { code: 503, message: "busy" } }), 4],
  ] as const)("discovery answering %s falls back to the catalog URL without microversion headers, and says so", async (_what, failing, times) => {
    // A 401 re-authenticates once (a second token), then fails again: then the fallback.
    const script = times === 2 ? [failing, answer(zedToken), failing] : Array.from({ length: times }, () => failing);
    const { r, session } = zedSession([answer(zedToken), ...script, answer(emptyList)]);
    const nova = createNovaClient(session);
    await nova.servers.list(undefined, { detail: false });
    const last = r.requests.at(-1)!;
    expect(last.url).toBe("http://127.0.0.1:8774/v2.1/servers");
    expect(last.headers["x-openstack-nova-api-version"]).toBeUndefined();
    expect((await nova.features()).discoveryFallback).toMatch(/^compute version discovery failed \(HTTP \d{3}: .+\); calling http:\/\/127\.0\.0\.1:8774\/v2\.1 without microversions/);
  });

  it("a fallback is not remembered with the token: the next client (next tick) tries discovery again", async () => {
    const busy = json(503, { serviceUnavailable: { code: 503, message: "busy" } });
    const { session } = zedSession([answer(zedToken), busy, busy, busy, busy, answer(versionDoc)]);
    expect((await createNovaClient(session).features()).discoveryFallback).toBeDefined();
    const next = await createNovaClient(session).features();
    expect(next.header).toBe("2.93");
    expect(next.discoveryFallback).toBeUndefined();
  });

  it("discovery refused by our own budget (nothing sent) is still an error, not a fallback", async () => {
    const r = replay(answer(zedToken));
    const settings = zedSettings();
    const session = new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: r.fetch, maxRequests: 1 });
    await expect(createNovaClient(session).features()).rejects.toMatchObject({ kind: "subrequestBudget" });
  });

  it("a legacy endpoint (/v2/{project}, /v1.1/{project}) is not probed and gets no header", async () => {
    expect(isLegacyComputeUrl("http://nova:8774/v2/abc")).toBe(true);
    expect(isLegacyComputeUrl("http://10.0.2.15:8774/v1.1/openstack")).toBe(true);
    expect(isLegacyComputeUrl("http://nova:8774/v2.1")).toBe(false);
    expect(isLegacyComputeUrl("http://nova:8774/v2.1/abc")).toBe(false);
  });

  it("an older cloud (max 2.40) is spoken to at 2.40", async () => {
    const { r, nova } = zedNova([answer(emptyList)], { range: { min: "2.1", max: "2.40" } });
    await nova.servers.list(undefined, { detail: false });
    expect(r.requests[2]!.headers["x-openstack-nova-api-version"]).toBe("2.40");
  });

  it("'latest' requested: the header says latest", async () => {
    const { r, nova } = zedNova([answer(emptyList)], { microversion: "latest" });
    await nova.servers.list(undefined, { detail: false });
    expect(r.requests[2]!.headers["openstack-api-version"]).toBe("compute latest");
  });
});
