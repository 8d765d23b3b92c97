// Rules in KV (envelope, ETags, corrupt values) and the group service's rules around them.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";
import { GROUP_KEY } from "../../src/core/membership.ts";
import { coordinatorStub } from "../../src/reconcile/coordinator.ts";
import { CloudGateway } from "../../src/reconcile/gateway.ts";
import { createGroupService } from "../../src/reconcile/group-service.ts";
import { ConflictError, CorruptRecordError, InvalidRequestError, NotFoundError, PreconditionFailedError } from "../../src/reconcile/service.ts";
import { runTick } from "../../src/reconcile/tick.ts";
import { etagMatches, INDEX_KEY, loadAllGroups, readGroup, RULES_KEY_PREFIX, rulesEtag, rulesKey } from "../../src/store/rules.ts";
import { MemoryCloud } from "./memory-cloud.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
}

/** env.RULES with a count of each KV operation. */
function countingKv() {
  const ops = { get: 0, list: 0, put: 0, delete: 0 };
  const kv: KVNamespace = new Proxy(env.RULES, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop === "string" && prop in ops) ops[prop as keyof typeof ops] += 1;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv, ops };
}

async function deleteAllRules() {
  const keys = await env.RULES.list({ prefix: RULES_KEY_PREFIX });
  await Promise.all([...keys.keys.map((k) => env.RULES.delete(k.name)), env.RULES.delete(INDEX_KEY)]);
}

function setup() {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date("2026-11-26T07:00:00Z") });
  return { cloud, service };
}

describe("rules in KV", () => {
  it("stores a versioned envelope under group:<name>", async () => {
    const { service } = setup();
    await service.putGroup("env-web", rules(), { author: "alice" });
    const raw = JSON.parse((await env.RULES.get(rulesKey("env-web"))) ?? "null");
    expect(raw).toMatchObject({ version: 1, updatedBy: "alice", updatedAt: "2026-11-26T07:00:00.000Z", rules: { image: "cirros" } });
  });

  it("reports a corrupt stored value instead of crashing on it", async () => {
    await env.RULES.put(rulesKey("corrupt-web"), '{"version":1,"rules":{"max":-1}}');
    const read = await readGroup(env.RULES, "corrupt-web");
    expect(read?.ok).toBe(false);
    await expect(setup().service.getGroup("corrupt-web")).rejects.toBeInstanceOf(CorruptRecordError);
    await env.RULES.delete(rulesKey("corrupt-web"));
  });

  it("a tick skips a group with corrupt rules and still reconciles the others", async () => {
    const { cloud, service } = setup();
    await env.RULES.put(rulesKey("corrupt-tick"), "not json at all");
    await service.putGroup("healthy-tick", rules({ default: 1 }), { author: "alice" });
    const summary = await runTick(env, new Date("2026-11-26T09:00:00Z"), { cloudFactory: () => cloud });
    expect(summary.unreadable).toContain("corrupt-tick");
    expect(cloud.groupServers("healthy-tick")).toHaveLength(1);
    await deleteAllRules();
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

  it("a tick reads one KV value for all groups and lists no keys between index checks", async () => {
    const { service } = setup();
    await service.putGroup("idx-a", rules({ default: 1 }), { author: "alice" });
    await service.putGroup("idx-b", rules({ default: 1 }), { author: "alice" });
    const { kv, ops } = countingKv();
    const read = await loadAllGroups(kv, new Date("2026-11-26T09:01:00Z"));
    expect(read.map((r) => r.name)).toEqual(expect.arrayContaining(["idx-a", "idx-b"]));
    expect(ops).toEqual({ get: 1, list: 0, put: 0, delete: 0 });
    await deleteAllRules();
  });

  it("every few minutes the index is checked against the group keys and repaired when it drifted", async () => {
    const { service } = setup();
    await service.putGroup("drift-a", rules({ default: 1 }), { author: "alice" });
    // A write whose index update was lost (another writer's stale read of the index).
    const lost = rules({ default: 3 });
    const envelope = { version: 1 as const, rules: lost, etag: await rulesEtag(lost), updatedAt: "2026-11-26T08:00:00.000Z", updatedBy: "bob" };
    await env.RULES.put(rulesKey("drift-b"), JSON.stringify(envelope), { metadata: { etag: envelope.etag } });
    expect((await loadAllGroups(env.RULES, new Date("2026-11-26T09:01:00Z"))).map((r) => r.name)).not.toContain("drift-b");
    expect((await loadAllGroups(env.RULES, new Date("2026-11-26T09:05:00Z"))).map((r) => r.name)).toContain("drift-b");
    const { kv, ops } = countingKv();
    expect((await loadAllGroups(kv, new Date("2026-11-26T09:06:00Z"))).map((r) => r.name)).toContain("drift-b");
    await loadAllGroups(kv, new Date("2026-11-26T09:10:00Z"));
    expect(ops.put).toBe(0);
    await deleteAllRules();
  });

  it("a corrupt group key is reported at every check without rewriting the index each time", async () => {
    await env.RULES.put(rulesKey("rot-web"), "not json");
    const first = await loadAllGroups(env.RULES, new Date("2026-11-26T09:00:00Z"));
    expect(first.find((r) => r.name === "rot-web")?.ok).toBe(false);
    const { kv, ops } = countingKv();
    const later = await loadAllGroups(kv, new Date("2026-11-26T09:05:00Z"));
    expect(later.find((r) => r.name === "rot-web")?.ok).toBe(false);
    expect(ops.put).toBe(0);
    await deleteAllRules();
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
