// A group's cloud and region are checked against the deployment's clouds when written: unknown -> 422 naming the field, nothing stored.
import { describe, expect, it } from "vitest";
import { rules, send, type ApiErrorBody } from "./support.ts";

describe("PUT /v1/groups/{name} with cloud and region", () => {
  it("refuses an unknown cloud with 422 naming the field, and stores nothing", async () => {
    const res = await send<ApiErrorBody>("PUT", "/v1/groups/g-no-cloud", { json: { ...rules(), cloud: "nowhere" } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain("cloud");
    expect(JSON.stringify(res.body)).toContain("unknown cloud 'nowhere'");
    expect((await send("GET", "/v1/groups/g-no-cloud")).status).toBe(404);
  });

  it("accepts the default cloud named explicitly", async () => {
    const res = await send("PUT", "/v1/groups/g-default-cloud", { json: { ...rules(), cloud: "default" } });
    expect(res.status).toBe(201);
  });
});
