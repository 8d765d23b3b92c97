// The rules store (ETags, corrupt entries) and the group service around it.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import { coordinatorStub } from "../../src/reconcile/groups/coordinator.ts";
import { CloudGateway } from "../../src/reconcile/gateway/gateway.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { ConflictError, CorruptRecordError, InvalidRequestError, NotFoundError, PreconditionFailedError } from "../../src/reconcile/shared/service.ts";
import { runTick } from "../../src/reconcile/tick/tick.ts";
import { etagMatches, rulesEtag } from "../../src/store/rules.ts";
import { deleteAllGroups, storeUnreadableGroup } from "../support/rules.ts";
import { MemoryCloud } from "../reconcile/memory-cloud.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
}

function setup() {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date("2026-11-26T07:00:00Z") });
  return { cloud, service };
}

// Storage is shared by the tests of this file: each test's groups go, so later ticks see only their own.
afterEach(deleteAllGroups);

describe("rules store", () => {
  it("reports a corrupt stored entry instead of crashing on it", async () => {
    await storeUnreadableGroup("corrupt-web");
    await expect(setup().service.getGroup("corrupt-web")).rejects.toBeInstanceOf(CorruptRecordError);
  });

  it("a tick skips a group with corrupt rules and still reconciles the others", async () => {
    const { cloud, service } = setup();
    await storeUnreadableGroup("corrupt-tick");
    await service.putGroup("healthy-tick", rules({ default: 1 }), { author: "alice" }); // publishes the index, corrupt row included
    const summary = await runTick(env, new Date("2026-11-26T09:00:00Z"), { cloudFactory: () => cloud });
    expect(summary.unreadable).toContain("corrupt-tick");
    expect(cloud.groupServers("healthy-tick")).toHaveLength(1);
  });

  it("the etag depends only on the rules", async () => {
    expect(await rulesEtag(rules({ default: 2 }))).toBe(await rulesEtag(rules({ default: 2 })));
    expect(await rulesEtag(rules({ default: 2 }))).not.toBe(await rulesEtag(rules({ default: 3 })));
  });

  it("If-Match accepts *, lists and weak tags, and never matches a missing group", () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches("*", '"abc"')).toBe(true);
    expect(etagMatches('"x"', '"abc"')).toBe(false);
    expect(etagMatches("*", undefined)).toBe(false);
  });
});

describe("group service", () => {
  it("a stale If-Match is refused with 412 and writes nothing", async () => {
    const { service } = setup();
    const first = await service.putGroup("match-web", rules(), { author: "alice" });
    await service.putGroup("match-web", rules({ default: 1 }), { author: "alice", ifMatch: first.etag });
    await expect(service.putGroup("match-web", rules({ default: 2 }), { author: "bob", ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect((await service.getGroup("match-web"))?.rules.default).toBe(1);
  });

  it("If-None-Match: * creates only", async () => {
    const { service } = setup();
    await service.putGroup("create-only", rules(), { author: "alice", ifNoneMatch: "*" });
    await expect(service.putGroup("create-only", rules({ default: 1 }), { author: "alice", ifNoneMatch: "*" })).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it("writing the same rules again writes nothing to KV", async () => {
    const { service } = setup();
    const first = await service.putGroup("same-web", rules(), { author: "alice" });
    const again = await service.putGroup("same-web", rules(), { author: "bob" });
    expect(again).toMatchObject({ etag: first.etag, created: false });
    expect((await service.getGroup("same-web"))?.updatedBy).toBe("alice");
  });

  it("refuses to delete a group that still has servers, unless forced (which leaves them running)", async () => {
    const { service, cloud } = setup();
    await service.putGroup("del-web", rules(), { author: "alice" });
    const server = cloud.addServer({ metadata: { [GROUP_KEY]: "del-web" } });
    await expect(service.deleteGroup("del-web", { force: false, author: "alice" })).rejects.toBeInstanceOf(ConflictError);
    const forced = await service.deleteGroup("del-web", { force: true, author: "alice" });
    expect(forced.serversLeftBehind.map((s) => s.id)).toEqual([server.id]);
    expect(cloud.servers).toHaveLength(1);
    expect(await service.getGroup("del-web")).toBeNull();
  });

  it("a tick holding rules read before the group was deleted does not act on them", async () => {
    const { service, cloud } = setup();
    await service.putGroup("gone-web", rules({ default: 2 }), { author: "alice" });
    const stale = await service.getGroup("gone-web");
    await service.deleteGroup("gone-web", { force: false, author: "alice" });
    const stub = coordinatorStub(env, "gone-web");
    const record = await stub.reconcile({ group: stale!, now: "2026-11-26T09:00:00Z", trigger: "cron", author: "cron" }, new CloudGateway(cloud));
    expect(record.notices.map((n) => n.code)).toEqual(["group-deleted"]);
    expect(cloud.count("boot")).toBe(0);
    const later = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date("2026-11-26T09:01:00Z") });
    await later.putGroup("gone-web", rules({ default: 1 }), { author: "alice" });
    await later.reconcileNow("gone-web", "alice", new Date("2026-11-26T09:01:00Z"));
    expect(cloud.groupServers("gone-web")).toHaveLength(1);
  });

  it("an override must end in the future", async () => {
    const { service } = setup();
    await service.putGroup("past-web", rules(), { author: "alice" });
    const now = new Date("2026-11-26T09:00:00Z");
    await expect(service.setOverride("past-web", { desired: 2, until: "2026-11-26T08:00:00Z", reason: "late", author: "bob" }, now)).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it("operations on an unknown group say NotFound", async () => {
    const { service } = setup();
    await expect(service.status("no-such-group", new Date())).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.pause("no-such-group", "bob")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("status shows desired with its reason, the override and the last tick's actual servers", async () => {
    const { service, cloud } = setup();
    await service.putGroup("status-web", rules({ default: 1 }), { author: "alice" });
    const now = new Date("2026-11-26T09:00:00Z");
    await service.setOverride("status-web", { desired: 2, until: "2026-11-26T10:00:00Z", reason: "demo day", author: "bob" }, now);
    await service.reconcileNow("status-web", "bob", now);
    const status = await service.status("status-web", now);
    expect(status.desired).toMatchObject({ value: 2, source: "override" });
    expect(status.override?.reason).toBe("demo day");
    expect(status.actualByStatus).toEqual({});
    expect(status.lastTick?.steps).toEqual([expect.objectContaining({ kind: "boot", count: 2 })]);
    expect(cloud.groupServers("status-web")).toHaveLength(2);
  });

  it("a plan preview changes nothing", async () => {
    const { service, cloud } = setup();
    await service.putGroup("preview-web", rules({ default: 3 }), { author: "alice" });
    const preview = await service.planPreview("preview-web", new Date("2026-11-26T09:00:00Z"));
    expect(preview.steps).toEqual([expect.objectContaining({ kind: "boot", count: 3 })]);
    expect(cloud.count("boot")).toBe(0);
    expect((await service.status("preview-web", new Date("2026-11-26T09:00:00Z"))).lastTick).toBeNull();
  });

  it("the activity log keeps only the newest 500 entries", async () => {
    const { service } = setup();
    await service.putGroup("busy-web", rules(), { author: "alice" });
    const entries = Array.from({ length: 510 }, (_, i) => ({ at: "2026-11-26T09:00:00Z", kind: "pause" as const, author: "bob", reason: `round ${i}` }));
    await coordinatorStub(env, "busy-web").record(entries);
    const log = await service.activity("busy-web", 1000);
    expect(log).toHaveLength(500);
    expect(log[0]?.reason).toBe("round 509");
    expect(log.at(-1)?.reason).toBe("round 10");
  });
});
