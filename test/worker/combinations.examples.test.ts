// Plain examples of what the combination property (combinations.property.test.ts) found, one rule per `it`, shell end to end.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../src/config/group.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../src/core/model/membership.ts";
import { DEFERRED_KEY } from "../../src/store/tick-state.ts";
import { deleteAllGroups, deleteAllPolicies } from "../support/rules.ts";
import { world } from "../reconcile/policies/world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

const scaledToZero = () => GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", networks: "none", min: 0, max: 1, default: 0 });

describe("finding 1: a scale-in waits for a server's snapshot to finish uploading", () => {
  it("a manual snapshot under way keeps its server through the tick that scales the group to 0", async () => {
    const { fake, groups, tick } = world({ snapshotMs: 90_000 });
    const member = fake.seedServer({ name: "web-1", metadata: { [GROUP_KEY]: "web", [BOOT_INTENT_KEY]: "seeded" } });
    await groups.putGroup("web", scaledToZero(), { author: "alice" });
    await groups.takeSnapshot("web", { author: "bob", serverId: member.id }, new Date(fake.now()));
    await tick(new Date(fake.now() + 60_000).toISOString());
    expect(fake.servers.get(member.id)?.taskState).not.toBe("deleting");
  });

  it("the server goes once its upload has ended", async () => {
    const { fake, groups, tick } = world({ snapshotMs: 90_000 });
    const member = fake.seedServer({ name: "web-1", metadata: { [GROUP_KEY]: "web", [BOOT_INTENT_KEY]: "seeded" } });
    await groups.putGroup("web", scaledToZero(), { author: "alice" });
    await groups.takeSnapshot("web", { author: "bob", serverId: member.id }, new Date(fake.now()));
    await tick(new Date(fake.now() + 60_000).toISOString());
    await tick(new Date(fake.now() + 60_000).toISOString());
    const gone = fake.servers.get(member.id);
    expect(gone === undefined || gone.taskState === "deleting" || gone.status === "DELETED").toBe(true);
  });
});
