// Reading Nova's fault for ERROR members the listing showed without one: which servers are read, how many, and what a failed read leaves.
import { describe, expect, it } from "vitest";
import type { ObservedServer } from "../../../src/core/model/types.ts";
import type { Outcome } from "../../../src/reconcile/gateway/gateway.ts";
import { FAULT_READS_PER_TICK, withFaults } from "../../../src/reconcile/groups/faults.ts";

function server(id: string, status: string, fault?: ObservedServer["fault"]): ObservedServer {
  return { id, name: `web-${id}`, status, taskState: null, created: "2026-11-26T08:00:00Z", metadata: { "novascale:group": "web" }, ...(fault ? { fault } : {}) };
}

/** A cloud whose GET /servers/{id} answers `faults[id]` (undefined: a failed read), recording what was asked. */
function cloudWith(faults: Record<string, ObservedServer["fault"] | null | undefined>) {
  const asked: string[] = [];
  return {
    asked,
    async serverFault(id: string): Promise<Outcome<ObservedServer["fault"] | null>> {
      asked.push(id);
      const fault = faults[id];
      return fault === undefined ? { ok: false, error: { operation: `read the fault of server ${id}`, category: "transient", message: "503" } } : { ok: true, value: fault };
    },
  };
}

const noValidHost = { code: 500, message: "No valid host was found." };

describe("withFaults", () => {
  it("fills in Nova's fault of an ERROR member listed without one", async () => {
    const cloud = cloudWith({ a: noValidHost });
    const out = await withFaults([server("a", "ERROR"), server("b", "ACTIVE")], [], cloud);
    expect(out.map((s) => s.fault)).toEqual([noValidHost, undefined]);
  });

  it("reads only ERROR members without a fault, never ACTIVE ones or ERROR ones the listing explained", async () => {
    const cloud = cloudWith({});
    await withFaults([server("a", "ACTIVE"), server("b", "BUILD"), server("c", "ERROR", { message: "listed" })], [], cloud);
    expect(cloud.asked).toEqual([]);
  });

  it("does not read again a server the boot backoff already counted (a protected ERROR server that stays costs one read)", async () => {
    const cloud = cloudWith({ a: noValidHost, b: noValidHost });
    await withFaults([server("a", "ERROR"), server("b", "ERROR")], ["a"], cloud);
    expect(cloud.asked).toEqual(["b"]);
  });

  it(`reads at most ${FAULT_READS_PER_TICK} per tick, lowest id first`, async () => {
    const ids = ["h", "c", "a", "g", "e", "b", "f", "d"];
    const cloud = cloudWith(Object.fromEntries(ids.map((id) => [id, noValidHost])));
    const out = await withFaults(ids.map((id) => server(id, "ERROR")), [], cloud);
    expect(cloud.asked.sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(out.filter((s) => s.fault !== undefined).map((s) => s.id).sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("a read that fails, or finds no fault, leaves the server as listed", async () => {
    const cloud = cloudWith({ b: null });
    const out = await withFaults([server("a", "ERROR"), server("b", "ERROR")], [], cloud);
    expect(out).toEqual([server("a", "ERROR"), server("b", "ERROR")]);
  });
});
