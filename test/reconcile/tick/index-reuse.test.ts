// The tick's rules index: an unchanged index text is not parsed again, and any change to it is seen on the next read.
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { entriesOf, INDEX_KEY, readIndex, writeIndex, type RulesKv } from "../../../src/store/rules.ts";

class MemoryKv implements RulesKv {
  values = new Map<string, string>();
  async get(key: string): Promise<string | null> {
    return this.values.get(key) ?? null;
  }
  async put(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

function envelope(extra: Partial<GroupRulesInput>, revision = 1) {
  const rules = GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
  return { rules, revision, etag: `"r${revision}"`, updatedAt: "2026-11-30T20:00:00.000Z", updatedBy: "test" };
}

async function readGroups(kv: RulesKv) {
  const read = await readIndex(kv);
  if (!read.ok) throw new Error(read.problem);
  return entriesOf(read.index, "group");
}

describe("the rules index as a tick reads it", () => {
  it("parses an unchanged index text once: the next read hands back the same parsed rules", async () => {
    const kv = new MemoryKv();
    await writeIndex(kv, { generation: 1, kinds: { group: { web: envelope({ default: 2 }) } } });
    const [first] = await readGroups(kv);
    const [second] = await readGroups(kv);
    expect(first?.ok && second?.ok).toBe(true);
    if (first?.ok && second?.ok) expect(second.envelope).toBe(first.envelope);
  });

  it("sees a rules change on the very next read", async () => {
    const kv = new MemoryKv();
    await writeIndex(kv, { generation: 1, kinds: { group: { web: envelope({ default: 2 }) } } });
    await readGroups(kv);
    await writeIndex(kv, { generation: 2, kinds: { group: { web: envelope({ default: 7 }, 2) } } });
    const [web] = await readGroups(kv);
    expect(web?.ok && web.envelope.rules.default).toBe(7);
    expect(web?.ok && web.envelope.revision).toBe(2);
  });

  it("reports an index that became unreadable instead of serving the earlier parse", async () => {
    const kv = new MemoryKv();
    await writeIndex(kv, { generation: 1, kinds: { group: { web: envelope({}) } } });
    await readGroups(kv);
    await kv.put(INDEX_KEY, "{ not json");
    const read = await readIndex(kv);
    expect(read.ok).toBe(false);
  });

  it("still reports a bad entry of an unchanged index on every read", async () => {
    const kv = new MemoryKv();
    await writeIndex(kv, { generation: 1, kinds: { group: { web: envelope({}), broken: { rules: { max: -1 } } } } });
    const first = await readGroups(kv);
    const second = await readGroups(kv);
    for (const read of [first, second]) expect(read.find((r) => r.name === "broken")?.ok).toBe(false);
  });

  it("gives each caller its own list: changing one does not change what the next read gets", async () => {
    const kv = new MemoryKv();
    await writeIndex(kv, { generation: 1, kinds: { group: { a: envelope({}), b: envelope({}) } } });
    const first = await readGroups(kv);
    first.splice(0, first.length);
    expect((await readGroups(kv)).map((r) => r.name)).toEqual(["a", "b"]);
  });
});
