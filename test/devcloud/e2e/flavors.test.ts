// End to end on the real cloud: a preferred flavor Nova cannot place falls back to the next one, and a change of the rules' flavor is rolled onto the members by the refresh, never under the desired count ACTIVE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Devcloud, testName, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";
import { watchGroup } from "../support/group-watch.ts";
import { adminUser } from "../support/identity.ts";

const group = testName("flavors");
/**
 * A flavor no host can take (as in faults.test.ts): 700,000 GB of disk against the fake host's 600,000, and
 * Nova has no disk quota, so the boot is accepted (202) and the scheduler answers NoValidHost.
 */
const hugeFlavor = testName("huge");
let hugeId: string | undefined;
let admin: Devcloud;

const e2e = useE2eWorker({ tokenName: "flavors-admin", groups: () => [group] });
const { api, apiJson } = e2e;
const minute = 60_000;
const base = new Date(Math.floor(Date.now() / minute) * minute);
const at = (minutes: number) => new Date(base.getTime() + minutes * minute);
const DESIRED = 2;

beforeAll(async () => {
  admin = await Devcloud.login(await adminUser());
  const made = await admin.call("POST", "/flavors", { flavor: { name: hugeFlavor, ram: 64, vcpus: 1, disk: 700_000, "os-flavor-access:is_public": true } });
  if (made.status !== 200) throw new Error(`create flavor ${hugeFlavor} -> ${made.status}: ${JSON.stringify(made.body)}`);
  hugeId = (made.body as { flavor: { id: string } }).flavor.id;
});

afterAll(async () => {
  // Runs before useE2eWorker's sweep (after-hooks run in reverse order); Nova deletes a flavor still in use.
  if (hugeId !== undefined) await admin?.call("DELETE", `/flavors/${hugeId}`);
});

async function putRules(flavor: string[]): Promise<void> {
  const rules = { image: "cirros-fake", flavor, min: 0, max: DESIRED, default: DESIRED, networks: "none", namePrefix: group, refresh: { maxSurge: 1 } };
  const res = await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify(rules) });
  expect([200, 201], await res.clone().text()).toContain(res.status);
}

const flavorOf = (s: NovaServer): string | undefined => s.flavor.original_name;
const { settle, context } = watchGroup(e2e, group, (s) => `flavor=${flavorOf(s)}`);

interface GroupStatus {
  flavors: { bootsWith: string; fallback: boolean; reason: string; marks: Array<{ flavor: string; cause: string }> } | null;
  bootBlock: unknown;
  refresh: { targetFlavor?: string; replaced: number; completedAt?: string; halted?: unknown } | null;
}
interface MemberView {
  flavor: string | null;
  flavorWhy: string;
  flavorReason: string;
}

describe("flavor fallback and flavor drift on the real cloud", () => {
  let fallbackIds: string[] = [];

  it("a preferred flavor the scheduler cannot place (NoValidHost) is marked and the group fills with the next flavor", async () => {
    await putRules([hugeFlavor, "m1.tiny"]);
    await e2e.worker!.fireCron(at(0)); // boots with the preferred flavor: accepted, then ERROR
    const first = await settle(0);
    expect(first.map((s) => [flavorOf(s), s.status]), await context()).toEqual(first.map(() => [hugeFlavor, "ERROR"]));

    let now: NovaServer[] = first;
    for (let tick = 1; tick <= 4; tick++) {
      await e2e.worker!.fireCron(at(tick));
      now = await settle(0);
      if (now.length === DESIRED && now.every((s) => s.status === "ACTIVE")) break;
    }
    expect(now.map((s) => [flavorOf(s), s.status]), await context()).toEqual([
      ["m1.tiny", "ACTIVE"],
      ["m1.tiny", "ACTIVE"],
    ]);
    fallbackIds = now.map((s) => s.id);

    const status = (await apiJson(`/v1/groups/${group}`)) as GroupStatus;
    // The capacity refusal is a mark that ends, not a config error that blocks boots.
    expect(status.bootBlock, await context()).toBeNull();
    expect(status.flavors).toMatchObject({ bootsWith: "m1.tiny", fallback: true, marks: [{ flavor: hugeFlavor }] });
    expect(status.flavors?.marks[0]?.cause).toMatch(/NoValidHost/);
    expect(status.flavors?.reason).toMatch(new RegExp(`^${hugeFlavor} has no room \\(NoValidHost\\), booting m1.tiny until `));
    const activity = (await apiJson(`/v1/groups/${group}/activity?limit=100`)) as { entries: Array<{ kind: string; reason?: string }> };
    expect(activity.entries.find((e) => e.kind === "flavor-unavailable")?.reason).toMatch(new RegExp(`^${hugeFlavor} has no room \\(NoValidHost\\)`));
  });

  it("the members view says each member runs the fallback flavor and why, while the preferred one is marked", async () => {
    const view = (await apiJson(`/v1/groups/${group}/members`)) as { servers: MemberView[] };
    expect(view.servers).toHaveLength(DESIRED);
    for (const m of view.servers) {
      expect(m).toMatchObject({ flavor: "m1.tiny", flavorWhy: "fallback" });
      expect(m.flavorReason).toMatch(new RegExp(`^fallback: ${hugeFlavor} has no room \\(NoValidHost\\) until `));
    }
  });

  it("re-pointing the rules to m1.small replaces the m1.tiny members by the refresh, surge first, never under 2 ACTIVE", async () => {
    expect(fallbackIds, "the first test's members").toHaveLength(DESIRED);
    await putRules(["m1.small"]);
    let tick = 10;
    let now: NovaServer[] = [];
    for (; tick <= 20; tick++) {
      await e2e.worker!.fireCron(at(tick));
      now = await settle(DESIRED);
      if (now.length === DESIRED && now.every((s) => s.status === "ACTIVE" && flavorOf(s) === "m1.small")) break;
    }
    expect(now.map((s) => [flavorOf(s), s.status]), await context()).toEqual([
      ["m1.small", "ACTIVE"],
      ["m1.small", "ACTIVE"],
    ]);
    expect(now.some((s) => fallbackIds.includes(s.id)), "an m1.tiny member survived").toBe(false);

    await e2e.worker!.fireCron(at(tick + 1));
    const status = (await apiJson(`/v1/groups/${group}`)) as GroupStatus;
    expect(status.refresh, await context()).toMatchObject({ targetFlavor: "m1.small", replaced: DESIRED });
    expect(status.refresh?.completedAt).toBeDefined();
    expect(status.refresh?.halted).toBeUndefined();
  });
});
