// End to end on the real cloud: a group created over the API is scaled up and down by cron ticks of the real Worker, checked on Nova.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Devcloud, demoUser, workerVars, testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { startWorker, type WorkerUnderTest } from "../support/wrangler-dev.ts";

const GROUP_KEY = "novascale:group";
const adminToken = `e2e-admin-${crypto.randomUUID()}`;
const group = testName("e2e");
const minute = 60_000;
// Ticks are fired at explicit times around the real clock (servers' ages then make sense to the build timeout).
const base = new Date(Math.floor(Date.now() / minute) * minute);
const at = (minutes: number) => new Date(base.getTime() + minutes * minute);

let cloud: Devcloud;
let worker: WorkerUnderTest | undefined;

/** The group's servers on Nova that still count (not being deleted). */
async function members(): Promise<NovaServer[]> {
  return cloud.liveServersWithMetadata(GROUP_KEY, group);
}

/** Waits until Nova shows exactly `count` members, all ACTIVE; on timeout the error carries what Nova and the Worker said. */
async function expectActiveMembers(count: number): Promise<NovaServer[]> {
  try {
    return await waitFor(`${count} ACTIVE servers in group ${group}`, async () => {
      const now = await members();
      return now.length === count && now.every((s) => s.status === "ACTIVE") ? now : undefined;
    }, 60_000);
  } catch (e) {
    const onNova = (await members()).map((s) => `${s.name} ${s.status}`).join(", ") || "none";
    const status = await api(`/v1/groups/${group}`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\non Nova: ${onNova}\nGET /v1/groups/${group}: ${status.slice(0, 3000)}\nworker output (tail):\n${worker?.output().slice(-3000)}`);
  }
}

function api(path: string, init: RequestInit = {}): Promise<Response> {
  if (worker === undefined) throw new Error("worker not started");
  return worker.request(path, {
    ...init,
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
}

beforeAll(async () => {
  const user = demoUser(process.env);
  cloud = await Devcloud.login(user);
  worker = await startWorker({ vars: workerVars(user, "e2e-admin", adminToken) });
});

afterAll(async () => {
  try {
    if (worker !== undefined) await api(`/v1/groups/${group}`, { method: "DELETE" }).catch(() => undefined);
  } finally {
    await worker?.stop();
    // Whatever the worker booted for this group goes, pass or fail.
    await cloud?.sweep(group);
  }
});

describe("autoscaling a group on the real cloud through wrangler dev", () => {
  it("boots up to the scheduled count, does not boot again on the next tick, and deletes down when the schedule drops", async () => {
    const rules = {
      image: "cirros-fake",
      flavor: "m1.tiny",
      min: 0,
      max: 3,
      default: 0,
      networks: "none",
      namePrefix: group,
      schedules: [
        { at: at(-10).toISOString(), desired: 2, name: "launch" },
        { at: at(60).toISOString(), desired: 1, name: "evening" },
      ],
    };
    const put = await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify(rules) });
    expect(put.status, await put.clone().text()).toBe(201);

    await worker!.fireCron(at(0));
    const up = await expectActiveMembers(2);

    // A second tick a minute later sees both servers and boots nothing more.
    await worker!.fireCron(at(1));
    expect((await members()).map((s) => s.id).sort()).toEqual(up.map((s) => s.id).sort());

    // After the "evening" entry fires the group is scaled in to one, the older server going first.
    await worker!.fireCron(at(61));
    const down = await expectActiveMembers(1);
    const newest = [...up].sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id)).at(-1);
    expect(up.map((s) => s.id)).toContain(down[0]!.id);
    expect(down[0]!.created >= newest!.created).toBe(true);
  });
});
