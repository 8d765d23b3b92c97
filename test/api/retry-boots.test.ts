// POST /v1/groups/{name}/retry-boots over HTTP: the operator role, 404 for no group, 409 when booting is not stopped.
import { describe, expect, it } from "vitest";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";

describe("POST /v1/groups/{name}/retry-boots", () => {
  it("answers 409 (conflict, naming the group) when booting is not stopped", async () => {
    await createGroup("rb-http", rules({ default: 0 }));
    const res = await send<ApiErrorBody>("POST", "/v1/groups/rb-http/retry-boots", { as: "operate" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(res.body.error.message).toContain("rb-http");
  });

  it("needs the operator role (a read token gets 403)", async () => {
    await createGroup("rb-role", rules({ default: 0 }));
    expect((await send("POST", "/v1/groups/rb-role/retry-boots", { as: "read" })).status).toBe(403);
  });

  it("answers 404 for a group that does not exist", async () => {
    expect((await send("POST", "/v1/groups/rb-missing/retry-boots", { as: "operate" })).status).toBe(404);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await send<{ paths: Record<string, unknown> }>("GET", "/openapi.json", { as: null });
    expect(Object.keys(doc.body.paths)).toContain("/v1/groups/{name}/retry-boots");
  });
});
