// End to end on the real cloud: the safety rails against real Nova answers (a boot Nova rejects with 400 is not retried; quota caps boots).
import { describe, expect, it } from "vitest";
import { testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const groups: string[] = [];
const e2e = useE2eWorker({ tokenName: "e2e-safety", groups: () => groups });
const api = e2e.apiJson;

interface TickRecord {
  health: string;
  notices: Array<{ code: string; message: string }>;
  results: Array<{ step: { kind: string }; outcome: string; error?: { category: string; message: string } }>;
}

async function createGroup(rules: Record<string, unknown>): Promise<string> {
  const group = testName("safe");
  groups.push(group);
  await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify({ image: "cirros-fake", flavor: "m1.tiny", namePrefix: group, ...rules }) });
  return group;
}

const reconcileNow = (group: string) => api(`/v1/groups/${group}/reconcile`, { method: "POST" }) as Promise<TickRecord>;
const members = (group: string): Promise<NovaServer[]> => e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);

describe("safety rails against the real Nova", () => {
  it("a boot Nova rejects with 400 (unknown network) boots nothing, says why, and is not sent again on the next tick", async () => {
    const group = await createGroup({ min: 0, max: 3, default: 2, networks: [{ uuid: "00000000-0000-4000-8000-0000000000ff" }] });
    const first = await reconcileNow(group);
    const failedBoot = first.results.find((r) => r.step.kind === "boot" && r.outcome === "failed");
    expect(failedBoot?.error?.category).toBe("config");
    expect(failedBoot?.error?.message).toContain("could not be found");

    const status = (await api(`/v1/groups/${group}`)) as { bootBlock: { reason: string } | null };
    expect(status.bootBlock?.reason).toContain("could not be found");

    const second = await reconcileNow(group);
    expect(second.results.filter((r) => r.step.kind === "boot" && r.outcome !== "skipped")).toEqual([]);
    expect(await members(group)).toEqual([]);
  });

  it("wanting more servers than the instance quota allows boots exactly what fits and reports capacity-limited", async () => {
    const limits = await e2e.cloud.call("GET", "/limits");
    const absolute = (limits.body as { limits: { absolute: { maxTotalInstances: number; totalInstancesUsed: number } } }).limits.absolute;
    const room = absolute.maxTotalInstances - absolute.totalInstancesUsed;
    expect(room).toBeGreaterThan(0);

    const group = await createGroup({ min: 0, max: 50, default: room + 2, networks: "none", limits: { maxBootsPerTick: 50 } });
    const record = await reconcileNow(group);
    expect(record.health).toBe("capacity-limited");
    expect(record.notices.map((n) => n.code)).toContain("capacity-limited");

    const booted = await waitFor(`${room} ACTIVE servers in ${group}`, async () => {
      const now = await members(group);
      return now.length === room && now.every((s) => s.status === "ACTIVE") ? now : undefined;
    }, 90_000);
    expect(booted).toHaveLength(room);
  });
});
