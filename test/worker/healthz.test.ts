// The worker answers its health check without auth.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /healthz", () => {
  it("answers 200 without a token", async () => {
    const res = await exports.default.fetch("http://novascale.test/healthz");
    expect(res.status).toBe(200);
  });
});
