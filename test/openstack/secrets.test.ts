// Secrets never come back in error texts: cached tokens, clipped messages, JSON-escaped forms, network errors, every path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OpenStackError } from "../../src/openstack/errors.ts";
import { Transport } from "../../src/openstack/http.ts";
import { MIN_MASKED_RUN, maskSecrets, SecretMasker, secretForms } from "../../src/openstack/secrets.ts";
import { createTokenCache, Session } from "../../src/openstack/session.ts";
import { credentialsFromSettings } from "../../src/openstack/keystone.ts";
import { CloudGateway } from "../../src/reconcile/gateway/gateway.ts";
import zedToken from "../fixtures/real-zed/keystone-token-demo.json";
import emptyList from "../fixtures/real-zed/nova-list-empty.json";
import { answer, json, replay, type Responder, TEST_PASSWORD, zedSettings } from "./support/replay.ts";
import { zedCloud } from "./support/zed.ts";

const URL_ = "http://nova.test/v2.1/servers";

/** Every run of MIN_MASKED_RUN characters of `secret` that appears in `text`. */
function leaks(text: string, secret: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + MIN_MASKED_RUN <= secret.length; i++) {
    const run = secret.slice(i, i + MIN_MASKED_RUN);
    if (text.includes(run)) found.push(run);
  }
  return found;
}

/** The error a transport with `secret` registered makes of one canned answer. */
async function errorFor(secret: string, canned: Responder): Promise<OpenStackError> {
  const t = new Transport({ fetch: replay(canned).fetch, retry: { maxAttempts: 1 } });
  t.registerSecret(secret);
  const e = await t.send({ method: "POST", url: URL_, json: {}, service: "compute", retry: "never" }).catch((x: unknown) => x);
  if (!(e instanceof OpenStackError)) throw new Error(`expected an OpenStackError, got ${String(e)}`);
  return e;
}

function texts(e: OpenStackError): string[] {
  return [e.message, e.detail, JSON.stringify(e.toJSON()), e.kind];
}

describe("masking", () => {
  it("a token from the shared cache, fetched by an earlier tick's session, is masked in a later tick's errors", async () => {
    const cache = createTokenCache();
    const settings = zedSettings();
    const token = "gAAAAABnZ-cached-fernet-token-0123456789abcdef";
    const first = replay(answer(zedToken, token), answer(emptyList));
    await new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: first.fetch, tokenCache: cache }).request({
      method: "GET",
      url: "http://127.0.0.1:8774/v2.1/servers",
      service: "compute",
    });
    // The next tick: a new session (new transport) that never authenticated itself.
    const later = replay(json(400, { badRequest: { code: 400, message: `Invalid token ${token} in request` } }));
    const session = new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: later.fetch, tokenCache: cache });
    const e = (await session.request({ method: "GET", url: "http://127.0.0.1:8774/v2.1/servers", service: "compute" }).catch((x: unknown) => x)) as OpenStackError;
    expect(later.requests).toHaveLength(1);
    for (const text of texts(e)) expect(leaks(text, token)).toEqual([]);
  });

  it("masking runs before clipping: a password cut at the 500-character edge leaves none of its characters", async () => {
    const password = "Zq9-wobbly-Kettle-77";
    const message = `${"x".repeat(490)}${password}`;
    const e = await errorFor(password, json(400, { badRequest: { code: 400, message } }));
    expect(leaks(e.detail, password)).toEqual([]);
  });

  it("a secret Nova echoes JSON-escaped (quotes, backslashes, \\uXXXX for non-ASCII) is masked", async () => {
    const password = 'pa"ss\\wörd-ÿ';
    const raw = `{"badRequest": {"code": 400, "message": "bad value ${JSON.stringify(password).slice(1, -1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"}}`;
    const e = await errorFor(password, { status: 400, headers: { "Content-Type": "application/json" }, body: raw });
    for (const text of texts(e)) {
      for (const form of secretForms(password)) expect(leaks(text, form)).toEqual([]);
    }
  });

  it("a truncated echo (Nova cuts long values) is masked too", async () => {
    const secret = "s3cr3t-that-is-quite-long-indeed";
    const e = await errorFor(secret, json(400, { badRequest: { code: 400, message: `Invalid input '${secret.slice(0, 12)}...'` } }));
    expect(leaks(e.detail, secret)).toEqual([]);
  });

  it("a network exception's text is masked (the runtime may quote what was sent)", async () => {
    const e = await errorFor(TEST_PASSWORD, new TypeError(`connect ECONNREFUSED http://user:${TEST_PASSWORD}@nova.test/`));
    expect(e.kind).toBe("network");
    expect(leaks(e.message, TEST_PASSWORD)).toEqual([]);
  });

  it("the gateway masks the cloud's secrets in errors from any source, and names the tick's request id", async () => {
    const { cloud } = zedCloud([]);
    const failing = { ...cloud, listServers: async () => Promise.reject(new Error(`oops ${TEST_PASSWORD}`)) };
    const outcome = await new CloudGateway(failing).listServers();
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(leaks(outcome.error.message, TEST_PASSWORD)).toEqual([]);
    expect(outcome.error.tickRequestId).toBe(cloud.requestId);
  });

  it("overlapping and adjacent runs become one mask; other text is kept", () => {
    expect(maskSecrets("before hunter2hunter2 after", ["hunter2"])).toBe("before *** after");
    expect(maskSecrets("no secret here", ["hunter2"])).toBe("no secret here");
  });

  it("a secret shorter than the masked run is not registered (it would mask ordinary words)", () => {
    const m = new SecretMasker();
    m.add("abc");
    expect(m.mask("abc abcd")).toBe("abc abcd");
  });
});

describe("property: no run of 4 characters of a secret survives in any error text", () => {
  // Secrets from a wide alphabet (quotes, backslashes, non-ASCII, spaces); messages that embed them in
  // any of their forms, whole or cut, at any place (clipping at 500 included), in every body shape.
  const secretArb = fc.string({ unit: fc.constantFrom(...Array.from("abcXYZ019-_\"\\/ &<>'%+éü€😀")), minLength: 8, maxLength: 40 });
  const fillerArb = fc.string({ unit: fc.constantFrom(..."klmnopqrstuvw .,:".split("")), maxLength: 600 });
  const shapeArb = fc.constantFrom("nova", "keystone", "glance", "text", "html");

  function body(shape: string, message: string): Responder {
    switch (shape) {
      case "nova":
        return json(400, { badRequest: { code: 400, message } });
      case "keystone":
        return json(401, { error: { code: 401, title: "Unauthorized", message } });
      case "glance":
        return json(403, { message: `403 Forbidden<br /><br />${message}`, code: "403 Forbidden", title: "Forbidden" });
      case "text":
        return { status: 500, headers: { "Content-Type": "text/plain" }, body: message };
      default:
        return { status: 502, headers: { "Content-Type": "text/html" }, body: `<html><title>502</title><body>${message.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</body></html>` };
    }
  }

  it("holds for generated secrets, messages and body shapes", async () => {
    await fc.assert(
      fc.asyncProperty(
        secretArb,
        fillerArb,
        fillerArb,
        shapeArb,
        fc.constantFrom("whole", "json", "url", "cut"),
        fc.nat(),
        async (secret, before, after, shape, form, cut) => {
          // The request line and the filler must not share a run with the secret by chance.
          fc.pre(leaks(`POST ${URL_}: 400 badRequest 401 unauthorized 403 forbidden 500 502 computeFault${before}${after}`, secret).length === 0);
          const embedded =
            form === "json"
              ? JSON.stringify(secret).slice(1, -1)
              : form === "url"
                ? encodeURIComponent(secret)
                : form === "cut"
                  ? secret.slice(0, MIN_MASKED_RUN + (cut % Math.max(1, secret.length - MIN_MASKED_RUN)))
                  : secret;
          const e = await errorFor(secret, body(shape, `${before}${embedded}${after}`));
          for (const text of texts(e)) expect(leaks(text, secret)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
