// Issue 30's must-show on the real cloud: one wrangler dev deployment, groups in two projects and two regions scale independently, and a cloud with a wrong secret fails only its own group.
import { afterAll, describe, expect, it } from "vitest";
import { Devcloud, demoBUser, demoUser, testName, waitFor, type DevcloudUser, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";
import { adminUser } from "../support/identity.ts";

/*
 * The devcloud's Keystone has project demo and project demo-b (a user each) and two regions: RegionOne at
 * http://127.0.0.1:* and RegionTwo whose catalog entries reach the same Nova and Glance through the host
 * name localhost (test/devcloud/harness/up.sh). Four named clouds in NOVASCALE_CLOUDS:
 *
 *   r1     demo   RegionOne      group A
 *   b      demo-b RegionOne      group B
 *   r2     demo   RegionTwo      group C
 *   broken demo-b, wrong password group D
 *
 * Cloud r2 also lists RegionThree, which the catalog does not have: group E there fails on the catalog
 * lookup, which shows the Worker takes each region's endpoints from the real Keystone catalog.
 *
 * Group names are one namespace per deployment, so two groups of one deployment never carry the same
 * `novascale:group` value. What must not cross is therefore planted by hand: in each project a server with
 * the OTHER project's group metadata and a boot marker (exactly what novascale writes on its own boots, the
 * marks that would let it delete), booted straight through Nova. A group that counted or deleted such a
 * server would cross projects. RegionTwo is the same Nova as RegionOne here (a real second region is
 * another Nova), so C lives in project demo next to A; they stay apart by their metadata.
 */

const GROUP_KEY = "novascale:group";
const BOOT_KEY = "novascale:boot";
const minute = 60_000;
const base = new Date(Math.floor(Date.now() / minute) * minute);
const at = (minutes: number) => new Date(base.getTime() + minutes * minute);

const groupA = testName("clouds-a");
const groupB = testName("clouds-b");
const groupC = testName("clouds-c");
const groupD = testName("clouds-d");
const groupE = testName("clouds-e");
const groups = [groupA, groupB, groupC, groupD, groupE];
const decoyInB = testName("clouds-decoy-a"); // in demo-b, carrying group A's metadata
const decoyInDemo = testName("clouds-decoy-b"); // in demo, carrying group B's metadata
const wrongSecret = `nstest-wrong-${crypto.randomUUID()}`;

let demoB: Devcloud;
let admin: Devcloud;
const decoys: Record<string, string> = {};

function cloudEntry(user: DevcloudUser, regions: string[], password = user.password) {
  return {
    auth: {
      auth_url: user.authUrl,
      username: user.username,
      password,
      project_name: user.projectName,
      user_domain_name: user.userDomainName,
      project_domain_name: user.projectDomainName,
    },
    auth_type: "password",
    ...(regions.length === 1 ? { region_name: regions[0] } : { regions }),
    interface: "public",
    identity_api_version: 3,
  };
}

const e2e = useE2eWorker({
  tokenName: "e2e-clouds",
  groups: () => groups,
  async beforeStart(demo) {
    demoB = await Devcloud.login(demoBUser(process.env));
    admin = await Devcloud.login(await adminUser());
    // The boot marker novascale writes on its own boots (<intent id>@<time sent>): a member it may delete.
    const marker = () => `${crypto.randomUUID()}@${at(-5).toISOString()}`;
    decoys[decoyInB] = await demoB.bootActive(decoyInB, { [GROUP_KEY]: groupA, [BOOT_KEY]: marker() });
    decoys[decoyInDemo] = await demo.bootActive(decoyInDemo, { [GROUP_KEY]: groupB, [BOOT_KEY]: marker() });
  },
  identity: async () => {
    const demo = demoUser(process.env);
    const b = demoBUser(process.env);
    const clouds = {
      clouds: {
        r1: cloudEntry(demo, ["RegionOne"]),
        b: cloudEntry(b, ["RegionOne"]),
        r2: cloudEntry(demo, ["RegionTwo", "RegionThree"]),
        broken: cloudEntry(b, ["RegionOne"], wrongSecret),
      },
    };
    return { user: demo, vars: { NOVASCALE_CLOUDS: JSON.stringify(clouds) } };
  },
});
const { api, apiJson } = e2e;

afterAll(async () => {
  // Runs before useE2eWorker's own teardown (which sweeps project demo): project demo-b is swept here.
  for (const name of [...groups, decoyInB, decoyInDemo]) await demoB?.sweep(name);
});

interface Status {
  health: string;
  lastTick: { at: string; counted: number; listing: string; errors: Array<{ message: string; category: string }> } | null;
}

/** All servers of every project as the admin sees them (all_tenants), each with its project. */
async function everyServer(): Promise<Array<NovaServer & { tenant_id: string }>> {
  const res = await admin.call("GET", "/servers/detail?all_tenants=1&limit=1000");
  if (res.status !== 200) throw new Error(`admin GET /servers/detail?all_tenants=1 -> ${res.status}`);
  return (res.body as { servers: Array<NovaServer & { tenant_id: string }> }).servers.filter(
    (s) => s.status !== "DELETED" && s.status !== "SOFT_DELETED" && s["OS-EXT-STS:task_state"] !== "deleting",
  );
}

/** Per group: the projects its live servers are in, one entry per server (sorted), as Nova's admin listing has them. */
async function placementOnNova(): Promise<Record<string, string[]>> {
  const servers = await everyServer();
  const out: Record<string, string[]> = {};
  const planted = new Set(Object.values(decoys));
  for (const g of groups) out[g] = servers.filter((s) => s.metadata[GROUP_KEY] === g && !planted.has(s.id)).map((s) => s.tenant_id).sort();
  return out;
}

/** Waits until every group has `want[g]` ACTIVE servers of its own (decoys not included), in the project it names. */
async function expectOnNova(want: Record<string, string[]>): Promise<void> {
  try {
    await waitFor("each group's servers in its own project", async () => {
      const servers = await everyServer();
      const settled = servers.filter((s) => groups.includes(s.metadata[GROUP_KEY] ?? "")).every((s) => s.status === "ACTIVE");
      const now = await placementOnNova();
      return settled && JSON.stringify(now) === JSON.stringify(want) ? true : undefined;
    }, 90_000);
  } catch (e) {
    const statuses = await Promise.all(groups.map((g) => api(`/v1/groups/${g}`).then((r) => r.text()).catch((err: unknown) => String(err))));
    throw new Error(`${(e as Error).message}\nwanted ${JSON.stringify(want)}\non Nova: ${JSON.stringify(await placementOnNova())}\n${statuses.map((s) => s.slice(0, 1500)).join("\n")}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

async function status(group: string): Promise<Status> {
  return (await apiJson(`/v1/groups/${group}`)) as Status;
}

function rules(cloud: string, schedules: Array<{ at: Date; desired: number }>, region?: string) {
  return {
    cloud,
    ...(region === undefined ? {} : { region }),
    image: "cirros-fake",
    flavor: "m1.tiny",
    min: 0,
    max: 2,
    default: 0,
    networks: "none",
    schedules: schedules.map((s, i) => ({ at: s.at.toISOString(), desired: s.desired, name: `step-${i}` })),
  };
}

describe("one deployment, two projects, two regions and a broken cloud on the real devcloud", () => {
  it("the harness gives RegionTwo its own catalog URLs for compute and image (same services, another host name)", async () => {
    const r1 = await Devcloud.login(demoUser(process.env), "RegionOne");
    const r2 = await Devcloud.login(demoUser(process.env), "RegionTwo");
    expect(r2.computeUrl).not.toBe(r1.computeUrl);
    expect(r2.imageUrl).not.toBe(r1.imageUrl);
    expect(demoB.projectId).not.toBe(r1.projectId);
  });

  it("groups of four clouds are written; each names its cloud", async () => {
    const puts: Array<[string, string, Array<{ at: Date; desired: number }>, string?]> = [
      [groupA, "r1", [{ at: at(-10), desired: 2 }, { at: at(60), desired: 1 }]],
      [groupB, "b", [{ at: at(-10), desired: 1 }, { at: at(60), desired: 2 }]],
      [groupC, "r2", [{ at: at(-10), desired: 1 }, { at: at(60), desired: 0 }]],
      [groupD, "broken", [{ at: at(-10), desired: 1 }]],
      [groupE, "r2", [{ at: at(-10), desired: 1 }], "RegionThree"],
    ];
    for (const [name, cloud, schedules, region] of puts) {
      const res = await api(`/v1/groups/${name}`, { method: "PUT", body: JSON.stringify(rules(cloud, schedules, region)) });
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(201);
      expect(((await res.json()) as { rules: { cloud?: string } }).rules.cloud).toBe(cloud);
    }
  });

  it("one tick: each group reaches its own count in its own project, none counts the other project's look-alike, and the broken cloud's group reports an error", async () => {
    await e2e.worker!.fireCron(at(0));
    const demoProject = e2e.cloud.projectId;
    await expectOnNova({ [groupA]: [demoProject, demoProject], [groupB]: [demoB.projectId], [groupC]: [demoProject], [groupD]: [], [groupE]: [] });

    const [a, b, c, d, e] = await Promise.all(groups.map(status));
    // The same tick: every group's record is of this tick.
    for (const s of [a, b, c, d, e]) expect(s!.lastTick?.at).toBe(at(0).toISOString());
    // The look-alike in the other project (same group metadata, a boot marker) was not counted: A and B
    // counted 0 members and booted their full count (two, one).
    expect(a!.lastTick).toMatchObject({ listing: "complete", errors: [], counted: 0 });
    expect(b!.lastTick).toMatchObject({ listing: "complete", errors: [], counted: 0 });
    expect(c!.lastTick).toMatchObject({ listing: "complete", errors: [], counted: 0 });
    // The broken cloud: its listing failed with an authentication error, and the error holds no secret.
    expect(d!.lastTick?.listing).toBe("failed");
    expect(d!.lastTick?.errors.map((x) => x.category)).toContain("auth");
    expect(d!.health).toBe("error");
    expect(JSON.stringify(d)).not.toContain(wrongSecret);
    // A region the catalog lacks: the lookup fails naming it, the rest of the same cloud (RegionTwo) works.
    expect(e!.lastTick?.listing).toBe("failed");
    expect(e!.lastTick?.errors.map((x) => x.message).join(" ")).toContain("RegionThree");
  });

  it("the next tick scales each group to its new count independently; the look-alikes are still there, untouched", async () => {
    await e2e.worker!.fireCron(at(61));
    const demoProject = e2e.cloud.projectId;
    // A 2 -> 1 and C 1 -> 0 in project demo (the same Nova behind both regions), B 1 -> 2 in demo-b.
    await expectOnNova({ [groupA]: [demoProject], [groupB]: [demoB.projectId, demoB.projectId], [groupC]: [], [groupD]: [], [groupE]: [] });
    const [a, b, c] = await Promise.all([groupA, groupB, groupC].map(status));
    // Counted as the tick saw them before acting: A its 2 (not the look-alike in demo-b), B its 1, C its 1.
    expect([a!.lastTick?.counted, b!.lastTick?.counted, c!.lastTick?.counted]).toEqual([2, 1, 1]);

    const all = await everyServer();
    const decoyA = all.find((s) => s.id === decoys[decoyInB]);
    const decoyB = all.find((s) => s.id === decoys[decoyInDemo]);
    expect(decoyA).toMatchObject({ tenant_id: demoB.projectId, status: "ACTIVE" });
    expect(decoyB).toMatchObject({ tenant_id: demoProject, status: "ACTIVE" });
    expect(decoyA!.metadata[GROUP_KEY]).toBe(groupA);
    expect(decoyB!.metadata[GROUP_KEY]).toBe(groupB);

    const d = await status(groupD);
    expect(d.lastTick?.at).toBe(at(61).toISOString());
    expect(d.lastTick?.listing).toBe("failed");
  });
});
