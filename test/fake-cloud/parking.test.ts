// The fake cloud's parking actions: shelve (and offload), unshelve, os-stop, os-start with states, timings, quota and faults.
import { describe, expect, it } from "vitest";
import { boot, freshCloud, obj } from "./testing.ts";

type Session = Awaited<ReturnType<typeof freshCloud>>["s"];

async function booted(options: Parameters<typeof freshCloud>[0] = {}) {
  const { cloud, s } = await freshCloud({ buildMs: 0, actionMs: 3_000, ...options });
  const id = obj(await boot(cloud, s, "park-me")).server.id as string;
  return { cloud, s, id };
}

async function state(s: Session, id: string): Promise<[string, string | null]> {
  const server = obj(await s.nova("GET", `/servers/${id}`)).server;
  return [server.status as string, (server["OS-EXT-STS:task_state"] as string | null) ?? null];
}

const act = (s: Session, id: string, body: unknown) => s.nova("POST", `/servers/${id}/action`, body);

describe("fake cloud: shelve and unshelve", () => {
  it("shelves through task shelving to SHELVED_OFFLOADED after actionMs (offloaded at once, Nova's default)", async () => {
    const { cloud, s, id } = await booted();
    expect((await act(s, id, { shelve: null })).status).toBe(202);
    expect(await state(s, id)).toEqual(["ACTIVE", "shelving"]);
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["SHELVED_OFFLOADED", null]);
  });

  it("keeps a shelved server SHELVED until shelveOffload when the offload time is -1", async () => {
    const { cloud, s, id } = await booted({ shelvedOffloadMs: -1 });
    await act(s, id, { shelve: null });
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["SHELVED", null]);
    expect((await act(s, id, { shelveOffload: null })).status).toBe(202);
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["SHELVED_OFFLOADED", null]);
  });

  it("unshelves through task unshelving back to ACTIVE, keeping the server id", async () => {
    const { cloud, s, id } = await booted();
    await act(s, id, { shelve: null });
    cloud.advance(3_000);
    expect((await act(s, id, { unshelve: null })).status).toBe(202);
    expect(await state(s, id)).toEqual(["SHELVED_OFFLOADED", "unshelving"]);
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["ACTIVE", null]);
  });

  it("frees cores and RAM of an offloaded server and refuses an unshelve that no longer fits (403)", async () => {
    const { cloud, s, id } = await booted({ quotas: { cores: 1 } });
    await act(s, id, { shelve: null });
    cloud.advance(3_000);
    const limits = obj(await s.nova("GET", "/limits")).limits.absolute;
    expect(limits.totalCoresUsed).toBe(0);
    expect(limits.totalInstancesUsed).toBe(1);
    expect((await boot(cloud, s, "took-the-core")).status).toBe(202);
    expect((await act(s, id, { unshelve: null })).status).toBe(403);
  });

  it("answers 409 to unshelving a server that is not shelved", async () => {
    const { s, id } = await booted();
    expect((await act(s, id, { unshelve: null })).status).toBe(409);
  });

  it("stops and starts through powering-off and powering-on", async () => {
    const { cloud, s, id } = await booted();
    await act(s, id, { "os-stop": null });
    expect(await state(s, id)).toEqual(["ACTIVE", "powering-off"]);
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["SHUTOFF", null]);
    await act(s, id, { "os-start": null });
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["ACTIVE", null]);
  });
});

describe("fake cloud: parking faults", () => {
  it("actionFails answers its status for the named action and changes nothing", async () => {
    const { cloud, s, id } = await booted();
    cloud.addFault({ kind: "actionFails", action: "shelve", status: 409, times: 1 });
    expect((await act(s, id, { shelve: null })).status).toBe(409);
    expect(await state(s, id)).toEqual(["ACTIVE", null]);
    expect((await act(s, id, { shelve: null })).status).toBe(202);
  });

  it("resumeFails accepts the unshelve, then falls back to SHELVED_OFFLOADED (no valid host)", async () => {
    const { cloud, s, id } = await booted();
    await act(s, id, { shelve: null });
    cloud.advance(3_000);
    cloud.addFault({ kind: "resumeFails", times: 1 });
    expect((await act(s, id, { unshelve: null })).status).toBe(202);
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["SHELVED_OFFLOADED", null]);
  });

  it("resumeFails on os-start leaves the server SHUTOFF", async () => {
    const { cloud, s, id } = await booted();
    await act(s, id, { "os-stop": null });
    cloud.advance(3_000);
    cloud.addFault({ kind: "resumeFails", times: 1 });
    await act(s, id, { "os-start": null });
    cloud.advance(3_000);
    expect(await state(s, id)).toEqual(["SHUTOFF", null]);
  });
});
