// End to end on the real cloud: a shelve group parks at night and brings the same servers back; a power group stops and starts servers it never booted.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const PARK_KEY = "novascale:park";
const TIER_KEY = "novascale:tier";
const shelveGroup = testName("shelve");
const powerGroup = testName("power");
/** Servers the test boots itself, straight through Nova: the power group's members, and one stranger. */
let tier1: string;
let tier2: string;
let strangerId: string;

const e2e = useE2eWorker({
  tokenName: "e2e-parking",
  groups: () => [shelveGroup, powerGroup],
  beforeStart: async () => {
    [tier1, tier2, strangerId] = await Promise.all([
      bootDirectly(`${powerGroup}-a`, { [GROUP_KEY]: powerGroup, [TIER_KEY]: "1" }),
      bootDirectly(`${powerGroup}-b`, { [GROUP_KEY]: powerGroup, [TIER_KEY]: "2" }),
      bootDirectly(`${powerGroup}-stranger`, { owner: "someone else" }),
    ]);
  },
});
const { api, apiJson } = e2e;
const minute = 60_000;
// The night lies in the past (the ticks are fired at explicit times), so that status, read at the real
// clock, sees the whole night in its 7-day window of server-hours parked.
const base = new Date(Math.floor((Date.now() - 14 * 60 * minute) / minute) * minute);
const at = (minutes: number) => new Date(base.getTime() + minutes * minute);
const EVENING = 60;
const MORNING = 13 * 60;

/** Boots a server directly on Nova (not through novascale) and waits until it is ACTIVE. */
function bootDirectly(name: string, metadata: Record<string, string>): Promise<string> {
  return e2e.cloud.bootActive(name, metadata);
}

async function members(group: string): Promise<NovaServer[]> {
  return e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);
}

/** Waits until the group's members on Nova are exactly these statuses (by id order of `expected`), with no task running. */
async function expectStates(group: string, expected: Record<string, string> | { count: number; status: string }): Promise<NovaServer[]> {
  const matches = (now: NovaServer[]) => {
    const settled = now.every((s) => !s["OS-EXT-STS:task_state"]);
    if ("count" in expected) return settled && now.length === expected.count && now.every((s) => s.status === expected.status);
    return settled && now.length === Object.keys(expected).length && now.every((s) => expected[s.id] === s.status);
  };
  try {
    return await waitFor(`${group}: ${JSON.stringify(expected)}`, async () => {
      const now = await members(group);
      return matches(now) ? now : undefined;
    }, 90_000);
  } catch (e) {
    const onNova = (await members(group)).map((s) => `${s.id} ${s.name} ${s.status}/${s["OS-EXT-STS:task_state"] ?? "-"}`).join(", ") || "none";
    const status = await api(`/v1/groups/${group}`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\non Nova: ${onNova}\nGET /v1/groups/${group}: ${status.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

interface Activity {
  entries: Array<{ kind: string; serverIds?: string[] }>;
}
interface Status {
  parking: { parked: Array<{ id: string }>; serverHoursParked: { last7Days: number; last30Days: number } } | null;
  lastTick: { steps: Array<{ kind: string }> } | null;
}

describe("parking on the real cloud", () => {
  it("a shelve group shelves its servers in the evening and unshelves the same server ids next morning, with zero boots", async () => {
    const rules = {
      image: "cirros-fake",
      flavor: "m1.tiny",
      min: 0,
      max: 3,
      networks: "none",
      namePrefix: shelveGroup,
      scaleIn: { action: "shelve" },
      schedules: [
        { at: at(-10).toISOString(), desired: 2, name: "day" },
        { at: at(EVENING).toISOString(), desired: 0, name: "evening" },
        { at: at(MORNING).toISOString(), desired: 2, name: "next morning" },
      ],
    };
    const put = await api(`/v1/groups/${shelveGroup}`, { method: "PUT", body: JSON.stringify(rules) });
    expect(put.status, await put.clone().text()).toBe(201);

    await e2e.worker!.fireCron(at(0));
    const day = await expectStates(shelveGroup, { count: 2, status: "ACTIVE" });
    const ids = day.map((s) => s.id).sort();

    // Evening: both are shelved (Nova offloads them at once), marked as parked by novascale, none deleted.
    await e2e.worker!.fireCron(at(EVENING + 1));
    const night = await expectStates(shelveGroup, { count: 2, status: "SHELVED_OFFLOADED" });
    expect(night.map((s) => s.id).sort()).toEqual(ids);
    for (const s of night) expect(s.metadata[PARK_KEY]).toBe(`parked ${at(EVENING + 1).toISOString()}`);
    expect(night.every((s) => s.metadata[GROUP_KEY] === shelveGroup)).toBe(true);
    // A tick later in the night: parked servers are not counted, so nothing is booted to replace them.
    await e2e.worker!.fireCron(at(EVENING + 30));
    const midnight = (await apiJson(`/v1/groups/${shelveGroup}`)) as Status;
    expect(midnight.lastTick?.steps).toEqual([]);
    expect(midnight.parking?.parked.map((p) => p.id).sort()).toEqual(ids);

    // Next morning: the same two servers are unshelved.
    await e2e.worker!.fireCron(at(MORNING + 1));
    const morning = await expectStates(shelveGroup, { count: 2, status: "ACTIVE" });
    expect(morning.map((s) => s.id).sort()).toEqual(ids);
    // Back in service: the next tick removes the park marks (Nova refuses metadata changes while shelved).
    await e2e.worker!.fireCron(at(MORNING + 2));
    await waitFor("park marks removed", async () => ((await members(shelveGroup)).every((s) => s.metadata[PARK_KEY] === undefined) ? true : undefined), 30_000);

    const activity = (await apiJson(`/v1/groups/${shelveGroup}/activity?limit=100`)) as Activity;
    const kinds = activity.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === "boot")).toHaveLength(1); // the day's first boot, nothing since
    expect(kinds).not.toContain("delete");
    expect(activity.entries.filter((e) => e.kind === "park").flatMap((e) => e.serverIds ?? []).sort()).toEqual(ids);
    expect(activity.entries.filter((e) => e.kind === "unpark").flatMap((e) => e.serverIds ?? []).sort()).toEqual(ids);

    // What was saved: two servers parked from the evening tick to the morning, about 12 hours each.
    const status = (await apiJson(`/v1/groups/${shelveGroup}`)) as Status;
    expect(status.parking?.parked).toEqual([]);
    expect(status.parking?.serverHoursParked.last7Days).toBeCloseTo((2 * (MORNING + 2 - (EVENING + 1))) / 60, 0);
  });

  it("a power group stops and starts servers it never booted, low tier first, and deletes none", async () => {
    const rules = {
      mode: "power",
      min: 0,
      max: 2,
      scaleIn: { action: "stop" },
      schedules: [
        { at: at(-10).toISOString(), desired: 2, name: "day" },
        { at: at(EVENING).toISOString(), desired: 0, name: "evening" },
        { at: at(MORNING).toISOString(), desired: 1, name: "early" },
        { at: at(MORNING + 30).toISOString(), desired: 2, name: "office" },
      ],
    };
    const put = await api(`/v1/groups/${powerGroup}`, { method: "PUT", body: JSON.stringify(rules) });
    expect(put.status, await put.clone().text()).toBe(201);

    // Day: both run already; nothing to do (and nothing booted).
    await e2e.worker!.fireCron(at(0));
    await expectStates(powerGroup, { [tier1]: "ACTIVE", [tier2]: "ACTIVE" });

    await e2e.worker!.fireCron(at(EVENING + 1));
    await expectStates(powerGroup, { [tier1]: "SHUTOFF", [tier2]: "SHUTOFF" });

    // Early: one should run, and the low tier starts first.
    await e2e.worker!.fireCron(at(MORNING + 1));
    await expectStates(powerGroup, { [tier1]: "ACTIVE", [tier2]: "SHUTOFF" });

    await e2e.worker!.fireCron(at(MORNING + 31));
    await expectStates(powerGroup, { [tier1]: "ACTIVE", [tier2]: "ACTIVE" });

    const activity = (await apiJson(`/v1/groups/${powerGroup}/activity?limit=100`)) as Activity;
    const kinds = activity.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === "boot" || k === "delete" || k === "boot-failed" || k === "delete-failed")).toEqual([]);
    expect(kinds.filter((k) => k === "park")).toHaveLength(2);
    expect(kinds.filter((k) => k === "unpark")).toHaveLength(2);
    // The stranger was never touched.
    const stranger = await e2e.cloud.server(strangerId);
    expect(stranger?.status).toBe("ACTIVE");
    expect(stranger?.metadata).toEqual({ owner: "someone else" });
  });
});
