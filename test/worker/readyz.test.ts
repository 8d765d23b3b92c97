// GET /readyz: readiness (Keystone gives a token, the rules registry answers), unlike /healthz's liveness; no secret in its body.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env.ts";
import worker from "../../src/index.ts";

async function readyz(overrides: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request("http://novascale.test/readyz"), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("GET /readyz", () => {
  it("answers 200 with every check ok, without a token, against the fake cloud", async () => {
    const res = await readyz();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, checks: { keystone: { ok: true }, registry: { ok: true } } });
  });

  it("answers 503 naming the keystone check as an auth failure when the password is wrong, without the password in the body", async () => {
    const password = "not-the-password-9f3k";
    const res = await readyz({ OS_PASSWORD: password });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain(password);
    expect(text).not.toContain(env.OS_AUTH_URL ?? "no auth url");
    const body = JSON.parse(text) as { ready: boolean; checks: { keystone: { ok: boolean; reason?: string }; registry: { ok: boolean } } };
    expect(body.ready).toBe(false);
    expect(body.checks.registry).toEqual({ ok: true });
    expect(body.checks.keystone.ok).toBe(false);
    expect(body.checks.keystone.reason).toMatch(/^auth: .*HTTP 401/);
  });

  it("answers 503 naming the missing OpenStack settings by field, not by value", async () => {
    const res = await readyz({ OS_AUTH_URL: "" });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { keystone: { ok: boolean; reason?: string } } };
    expect(body.checks.keystone).toEqual({ ok: false, reason: expect.stringContaining("OS_AUTH_URL") });
  });

  it("answers 503 naming the registry check when its Durable Object does not answer", async () => {
    const broken = { get: () => ({ list: () => Promise.reject(new Error("boom")) }), idFromName: (n: string) => n };
    const res = await readyz({ REGISTRY: broken as unknown as Env["REGISTRY"] });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { keystone: unknown; registry: unknown } };
    expect(body.checks).toEqual({ keystone: { ok: true }, registry: { ok: false, reason: "the rules registry (Durable Object) did not answer" } });
  });

  it("is described in the OpenAPI document without security", async () => {
    const doc = (await (await worker.fetch(new Request("http://novascale.test/openapi.json"), env as Env, createExecutionContext())).json()) as {
      paths: Record<string, { get?: { security?: unknown[]; responses: Record<string, unknown> } }>;
    };
    expect(doc.paths["/readyz"]?.get?.security).toEqual([]);
    expect(Object.keys(doc.paths["/readyz"]?.get?.responses ?? {})).toEqual(["200", "503"]);
  });
});
