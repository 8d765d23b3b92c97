// The fault matrix for snapshot policies over a parking group: faults on createImage, image listing and image delete; invariants after every tick.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GROUP_KEY, IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../src/core/snapshots/policy-snapshots.ts";
import { DEFERRED_KEY } from "../../src/store/tick-state.ts";
import type { FaultSpecInput } from "../fake-cloud/faults.ts";
import { deleteAllGroups, deleteAllPolicies } from "../support/rules.ts";
import { nightlyStopGroupRules, policyRules, world } from "../reconcile/policies/world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

const MAX_ATTEMPTS = 3;
/** Faults last the first two nights; the third and fourth are clean. */
const FAULT_NIGHTS = 2;
const NIGHTS = 4;

/** Each fault as the fake cloud injects it while it lasts, and how many HTTP requests one createImage call may make under it. */
const FAULTS: Record<string, { specs: FaultSpecInput[]; httpPerCall: number }> = {
  "createImage 409": { specs: [{ kind: "snapshotRefused", status: 409 }], httpPerCall: 4 }, // 409 is retried by the client (rejected-only)
  "createImage 500": { specs: [{ kind: "snapshotRefused", status: 500 }], httpPerCall: 1 },
  "image killed": { specs: [{ kind: "snapshotKilled" }], httpPerCall: 1 },
  "upload stuck": { specs: [{ kind: "snapshotStuck" }], httpPerCall: 1 },
  "image listing 500": { specs: [{ kind: "randomErrors", rate: 1, statuses: [500], service: "image", method: "GET", path: "/images" }], httpPerCall: 1 },
  "image delete 500": { specs: [{ kind: "randomErrors", rate: 1, statuses: [500], service: "image", method: "DELETE" }], httpPerCall: 1 },
};

/** A night and the morning after: parks at 01:30 UTC, the policy fires at 01:30, resumes at 08:00. */
const TIMES = ["01:31", "01:32", "01:40", "03:00", "08:01", "08:02", "12:00"];

describe.each(Object.entries(FAULTS))("a stop group with a nightly policy over its servers, fault: %s", (_name, { specs, httpPerCall }) => {
  it("never deletes a server or a stranger's image, never a member's newest snapshot, bounds attempts, and recovers", async () => {
    const { fake, groups, policies, tick, sent, foreignImage } = world();
    const members = ["web-1", "web-2"].map((name) => fake.seedServer({ name, metadata: { [GROUP_KEY]: "web" } }));
    const stranger = fake.seedServer({ name: "stranger" });
    const foreign = [
      foreignImage("operator-backup", { note: "by hand" }),
      foreignImage("other-policy", { [IMAGE_MADE_BY_KEY]: "novascale", [IMAGE_POLICY_KEY]: "other", [IMAGE_SOURCE_SERVER_KEY]: members[0]!.id, [IMAGE_FIRING_KEY]: "2026-11-01T01:30:00.000Z" }),
    ];
    await groups.putGroup(
      "web",
      nightlyStopGroupRules(),
      { author: "alice" },
    );
    await policies.put("nightly", policyRules({ select: { group: "web" }, retention: { keepLast: 2 }, maxAttempts: MAX_ATTEMPTS, maxConcurrent: 2, graceHours: 2 }), { author: "alice" });
    await tick("2026-11-20T12:00:00Z");

    const own = () => fake.imageSnapshots().filter((i) => i.properties[IMAGE_MADE_BY_KEY] === "novascale" && i.properties[IMAGE_POLICY_KEY] === "nightly");
    /** Per member: the ids of its active snapshots seen so far (its newest must stay until a newer one is active). */
    let newestSeen = new Map<string, { id: string; firing: string }>();
    for (let n = 0; n < NIGHTS; n++) {
      const day = 21 + n;
      if (n === 0) for (const spec of specs) fake.addFault(spec);
      if (n === FAULT_NIGHTS) fake.clearFaults();
      for (const time of TIMES) {
        await tick(`2026-11-${day}T${time}:00Z`);
        // No server is ever deleted: the members and the stranger stay.
        for (const s of [...members, stranger]) expect(fake.servers.has(s.id), `${s.name} at ${day} ${time}`).toBe(true);
        // No stranger's image is ever touched.
        for (const id of foreign) expect(fake.images.get(id)?.status, `foreign ${id}`).toBe("active");
        // A member's newest active snapshot stays until a newer one of its own is active.
        for (const [serverId, seen] of newestSeen) {
          const present = fake.images.has(seen.id);
          const newer = own().some((i) => i.status === "active" && i.properties[IMAGE_SOURCE_SERVER_KEY] === serverId && i.properties[IMAGE_FIRING_KEY]! > seen.firing);
          expect(present || newer, `newest snapshot of ${serverId} kept at ${day} ${time}`).toBe(true);
        }
        const next = new Map(newestSeen);
        for (const image of own().filter((i) => i.status === "active")) {
          const source = image.properties[IMAGE_SOURCE_SERVER_KEY]!;
          const firing = image.properties[IMAGE_FIRING_KEY]!;
          if ((next.get(source)?.firing ?? "") < firing) next.set(source, { id: image.id, firing });
        }
        newestSeen = next;
      }
      // Attempts bounded: createImage requests per member this night.
      const nightStart = Date.parse(`2026-11-${day}T01:30:00Z`);
      for (const m of members) {
        const calls = sent.filter((r) => r.action === "createImage" && r.path.includes(m.id) && (r.at ?? 0) >= nightStart && (r.at ?? 0) < nightStart + 86_400_000).length;
        expect(calls, `createImage requests for ${m.name} on the ${day}th`).toBeLessThanOrEqual(MAX_ATTEMPTS * httpPerCall);
      }
    }
    // Recovered: the last night's snapshot of every member is active, and the members run again by day.
    const lastFiring = `2026-11-${20 + NIGHTS}T01:30:00.000Z`;
    for (const m of members) {
      expect(own().some((i) => i.status === "active" && i.properties[IMAGE_SOURCE_SERVER_KEY] === m.id && i.properties[IMAGE_FIRING_KEY] === lastFiring), `${m.name}'s last snapshot`).toBe(true);
      expect(fake.servers.get(m.id)?.status).toBe("ACTIVE");
    }
    // Retention ran once faults cleared: keepLast 2 per member plus nothing stuck or failed left over.
    expect(own().filter((i) => i.status !== "active")).toEqual([]);
  });
});
