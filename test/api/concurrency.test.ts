// Conditional writes at once through the real worker: compare-and-set in the rules registry, revisions in the answers.
import { describe, expect, it } from "vitest";
import { createGroup, rules, send } from "./support.ts";

interface Stored {
  etag: string;
  revision: number;
  rules: { max: number };
}

describe("conditional writes at once", () => {
  it("10 PUTs with the same If-Match at once: exactly one 2xx and nine 412, and the winner's rules are stored", async () => {
    const first = await createGroup("cas-web");
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send<Stored>("PUT", "/v1/groups/cas-web", { json: rules({ max: 10 + i }), headers: { "If-Match": first.body.etag } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412, 412, 412, 412, 412]);
    const winner = answers.find((a) => a.status === 200)!;
    expect(winner.body.revision).toBe(2);
    const now = await send<Stored>("GET", "/v1/groups/cas-web", { as: "read" });
    expect([now.body.rules.max, now.body.revision, now.headers.get("ETag")]).toEqual([winner.body.rules.max, 2, winner.body.etag]);
  });

  it("10 creates of one name with If-None-Match: * at once: exactly one 201, nine 412", async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send<Stored>("PUT", "/v1/groups/cas-create", { json: rules({ max: 10 + i }), headers: { "If-None-Match": "*" } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 412, 412, 412, 412, 412, 412, 412, 412, 412]);
    expect(answers.find((a) => a.status === 201)?.body.revision).toBe(1);
  });

  it("10 PUTs to different groups at once: every one is listed, none lost", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `cas-many-${i}`);
    const answers = await Promise.all(names.map((name) => send("PUT", `/v1/groups/${name}`, { json: rules() })));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const list = await send<{ groups: Array<{ name: string; revision: number }> }>("GET", "/v1/groups", { as: "read" });
    expect(list.body.groups.filter((g) => g.name.startsWith("cas-many-")).map((g) => [g.name, g.revision])).toEqual(names.sort().map((n) => [n, 1]));
  });
});
