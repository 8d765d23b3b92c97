// The dashboard's read views through the real worker: POST .../preview (validation at the field, timeline, occurrences), GET .../members (live, fake cloud), GET .../server-hours.
import { describe, expect, inject, it } from "vitest";
import { GROUP_KEY, PROTECTED_KEY } from "../../src/core/model/membership.ts";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";

const fakeCloud = inject("fakeCloudUrl");

interface Preview {
  hours: number;
  points: { at: string; value: number; source: string }[];
  occurrences: { schedules: { index: number; kind: string; next: { at: string; until?: string }[] }[]; exceptions: { name: string; next: { date: string; names: string[] }[] }[] };
}
interface Member {
  id: string;
  name: string;
  status: string;
  addresses: string[];
  protected: boolean;
  parkedSince: string | null;
  link: string | null;
  flavor: string | null;
  flavorWhy: string;
  flavorReason: string;
}
interface Members {
  servers: Member[] | null;
  image: { id: string; name: string } | { error: { message: string } } | null;
  flavor: { id: string; name: string } | null;
}

async function seedServer(group: string, name: string, metadata: Record<string, string> = {}, flavor?: string): Promise<{ id: string }> {
  const res = await fetch(`${fakeCloud}/_fake/servers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, metadata: { [GROUP_KEY]: group, ...metadata }, ...(flavor === undefined ? {} : { flavor }) }),
  });
  if (res.status !== 201) throw new Error(`seeding ${name}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { server: { id: string } }).server;
}

/** A date within the coming year (occurrences look 400 days ahead). */
const DAY = `${new Date().getUTCFullYear() + 1}-01-15`;

describe("POST /v1/groups/{name}/preview", () => {
  const week = rules({
    max: 10,
    default: 2,
    schedules: [{ window: "Mon-Fri 08:00-18:00", timezone: "Europe/Berlin", desired: 6 }],
    exceptions: [{ name: "Christmas", dates: [DAY], timezone: "Europe/Berlin", desired: 0 }],
  });

  it("previews rules for a group that does not exist yet, writing nothing", async () => {
    const res = await send<Preview>("POST", "/v1/groups/pv-new/preview", { json: week, as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.hours).toBe(168);
    expect(new Set(res.body.points.map((p) => p.value))).toEqual(new Set([2, 6]));
    expect((await send("GET", "/v1/groups/pv-new")).status).toBe(404);
  });

  it("lists the window's next openings and the exception's next day with its name", async () => {
    const res = await send<Preview>("POST", "/v1/groups/pv-occ/preview?count=2", { json: week });
    expect(res.body.occurrences.schedules[0]?.kind).toBe("window");
    expect(res.body.occurrences.schedules[0]?.next).toHaveLength(2);
    expect(res.body.occurrences.schedules[0]?.next[0]?.until).toBeDefined();
    expect(res.body.occurrences.exceptions[0]?.next.map((d) => [d.date, d.names])).toEqual([[DAY, ["Christmas"]]]);
  });

  it("refuses rules the PUT schema refuses, naming the field, with 400", async () => {
    const res = await send<ApiErrorBody>("POST", "/v1/groups/pv-bad/preview", { json: rules({ min: 7, max: 5 }) });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.min" })]));
  });

  it("needs a token", async () => {
    expect((await send("POST", "/v1/groups/pv-anon/preview", { json: week, as: null })).status).toBe(401);
  });
});

describe("GET /v1/groups/{name}/members", () => {
  it("lists the group's servers (and only them) with addresses, protection and a link to the cloud's dashboard", async () => {
    await createGroup("mem-a", rules({ max: 5 }));
    const plain = await seedServer("mem-a", "mem-a-1");
    const guarded = await seedServer("mem-a", "mem-a-2", { [PROTECTED_KEY]: "true" });
    await seedServer("mem-other", "mem-other-1");
    const res = await send<Members>("GET", "/v1/groups/mem-a/members", { as: "read" });
    expect(res.status).toBe(200);
    const servers = res.body.servers ?? [];
    expect(servers.map((s) => s.id).sort()).toEqual([plain.id, guarded.id].sort());
    expect(servers.find((s) => s.id === guarded.id)?.protected).toBe(true);
    expect(servers.find((s) => s.id === plain.id)?.protected).toBe(false);
    expect(servers.find((s) => s.id === plain.id)?.link).toBe(`https://horizon.example/project/instances/${plain.id}/`);
    expect(servers.every((s) => s.parkedSince === null)).toBe(true);
  });

  it("lists the addresses Nova gives a server novascale booted", async () => {
    await createGroup("mem-boot", rules({ max: 2, default: 1, networks: "auto" }));
    expect((await send("POST", "/v1/groups/mem-boot/reconcile")).status).toBe(200);
    const res = await send<Members>("GET", "/v1/groups/mem-boot/members");
    expect(res.body.servers).toHaveLength(1);
    expect(res.body.servers?.[0]?.addresses.length).toBeGreaterThan(0);
    expect(res.body.servers?.[0]?.addresses.every((a) => /^[0-9a-f.:]+$/i.test(a))).toBe(true);
  });

  it("shows what the rules' image and flavor resolve to", async () => {
    await createGroup("mem-res", rules());
    const res = await send<Members>("GET", "/v1/groups/mem-res/members");
    expect(res.body.image).toMatchObject({ name: "cirros" });
    expect((res.body.image as { id: string }).id).toMatch(/./);
    expect(res.body.flavor).toMatchObject({ name: "m1.tiny" });
  });

  it("says why an image does not resolve instead of failing the listing", async () => {
    await createGroup("mem-noimg", rules({ image: "no-such-image-anywhere" }));
    const res = await send<Members>("GET", "/v1/groups/mem-noimg/members");
    expect(res.status).toBe(200);
    expect(res.body.servers).toEqual([]);
    expect((res.body.image as { error: { message: string } }).error.message).toMatch(/no-such-image-anywhere/);
  });

  it("says which of the rules' flavors each server runs and why (preferred, fallback, not in the rules)", async () => {
    await createGroup("mem-flv", rules({ max: 5, flavor: ["m1.small", "m1.tiny"] }));
    const a = await seedServer("mem-flv", "mem-flv-a", {}, "m1.small");
    const b = await seedServer("mem-flv", "mem-flv-b", {}, "m1.tiny");
    const c = await seedServer("mem-flv", "mem-flv-c", {}, "m1.medium");
    const res = await send<Members & { flavors: Array<{ name: string }> }>("GET", "/v1/groups/mem-flv/members");
    const by = (id: string) => res.body.servers?.find((s) => s.id === id);
    expect(by(a.id)).toMatchObject({ flavor: "m1.small", flavorWhy: "preferred", flavorReason: "preferred flavor m1.small" });
    expect(by(b.id)).toMatchObject({ flavor: "m1.tiny", flavorWhy: "fallback" });
    expect(by(b.id)?.flavorReason).toMatch(/it stays until scale-in \(the group has no refresh rules\)/);
    expect(by(c.id)).toMatchObject({ flavor: "m1.medium", flavorWhy: "not-in-rules" });
    expect(res.body.flavor).toMatchObject({ name: "m1.small" });
    expect(res.body.flavors.map((f) => f.name)).toEqual(["m1.small", "m1.tiny"]);
  });

  it("answers 404 for an unknown group", async () => {
    expect((await send("GET", "/v1/groups/mem-none/members")).status).toBe(404);
  });
});

describe("GET /v1/groups/{name}/server-hours", () => {
  it("counts nothing before the first tick and reports the group's max", async () => {
    await createGroup("sh-new", rules({ max: 4 }));
    const res = await send<{ max: number; last7Days: { coveredHours: number; run: number; saved: number } }>("GET", "/v1/groups/sh-new/server-hours", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.max).toBe(4);
    expect(res.body.last7Days).toMatchObject({ coveredHours: 0, run: 0, saved: 0 });
  });

  it("integrates what the ticks recorded after a reconcile", async () => {
    await createGroup("sh-run", rules({ max: 4, default: 1 }));
    expect((await send("POST", "/v1/groups/sh-run/reconcile")).status).toBe(200);
    const res = await send<{ last30Days: { coveredHours: number; run: number; saved: number } }>("GET", "/v1/groups/sh-run/server-hours");
    expect(res.body.last30Days.coveredHours).toBeGreaterThanOrEqual(0);
    expect(res.body.last30Days.run).toBeLessThanOrEqual(4 * res.body.last30Days.coveredHours + 0.1);
  });

  it("answers 404 for an unknown group", async () => {
    expect((await send("GET", "/v1/groups/sh-none/server-hours")).status).toBe(404);
  });
});
