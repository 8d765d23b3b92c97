// Input Nova would reject later is refused at the API's edge by Nova's own rules; token configuration is refused clearly.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { configuredTokens, findToken } from "../../src/api/auth.ts";
import { ApiError } from "../../src/api/errors.ts";
import { base64Length, GroupRulesSchema, MAX_USER_DATA_BASE64 } from "../../src/config/group.ts";
import type { GroupService } from "../../src/reconcile/shared/service.ts";

const ADMIN = "admin-token-for-tests";
const OPERATOR = "operate-token-for-tests";

/** Every request here must be refused before the service is reached. */
const reached: string[] = [];
const unreachable = new Proxy({} as GroupService, {
  get(_t, method) {
    return () => {
      reached.push(String(method));
      throw new Error(`service.${String(method)} was called`);
    };
  },
});
const app = createApp({ service: () => unreachable });

async function put(path: string, body: string, token = ADMIN) {
  const res = await app.request(`http://novascale.test${path}`, { method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body }, env);
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string; details: Array<{ path: string; message: string }> } } };
}

const rules = (extra: Record<string, unknown>) => ({ image: "cirros", flavor: "m1.tiny", max: 3, ...extra });
const problems = (input: unknown) => {
  const r = GroupRulesSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("rules by Nova's own rules", () => {
  it.each(["bad/key", "tab\tkey", "ümlaut", "a".repeat(256), "", "emoji😀"])("a metadata key Nova refuses (%j) is a 400 naming the key", (key) => {
    expect(problems(rules({ metadata: { [key]: "v" } }))).toEqual([expect.stringContaining("Nova accepts metadata keys")]);
  });

  it("keys of letters, digits, space and - _ : . pass", () => {
    expect(problems(rules({ metadata: { "Role: web-1.a_b c": "v" } }))).toEqual([]);
  });

  it("the snapshot source's metadata keys follow the same rule", () => {
    const snapshots = { cron: "30 2 * * *", keep: 3, source: { metadata: { "bad/key": "x" } } };
    expect(problems(rules({ snapshots }))).toEqual([expect.stringMatching(/^snapshots\.source\.metadata\.bad\/key: .*Nova accepts/)]);
  });

  it("userData is measured as Nova measures it: base64-encoded bytes, at most 65,535", () => {
    const fits = "x".repeat(49_149); // 4 * ceil(49,149 / 3) = 65,532
    const over = "x".repeat(49_150); // 65,536
    expect(base64Length(fits)).toBeLessThanOrEqual(MAX_USER_DATA_BASE64);
    expect(problems(rules({ userData: fits }))).toEqual([]);
    expect(problems(rules({ userData: over }))).toEqual([expect.stringContaining("65536 bytes once base64-encoded")]);
  });

  it("multi-byte text counts in UTF-8 bytes: 20,000 'é' (40,000 bytes) is over the limit of 65,535 once encoded? no: 53,336", () => {
    expect(base64Length("é".repeat(20_000))).toBe(53_336);
    expect(problems(rules({ userData: "é".repeat(25_000) }))).toEqual([expect.stringContaining("once base64-encoded")]);
  });

  it.each([["10.0.0.300"], ["fe80::1::2"], ["example.org"], ["10.0.0.1/24"]])("fixedIp %s is not an IP: 400", (fixedIp) => {
    expect(problems(rules({ networks: [{ uuid: "d0c10ad0-0000-4000-8000-000000000001", fixedIp }] }))).toEqual([expect.stringContaining("IPv4 or IPv6")]);
  });

  it("IPv4 and IPv6 fixed IPs pass", () => {
    for (const fixedIp of ["10.0.0.5", "2001:db8::5"]) expect(problems(rules({ networks: [{ uuid: "d0c10ad0-0000-4000-8000-000000000001", fixedIp }] }))).toEqual([]);
  });

  it("a network uuid or port that is not a UUID is a 400; Nova's looser forms (no dashes, upper case) pass", () => {
    expect(problems(rules({ networks: [{ uuid: "private" }] }))).toEqual([expect.stringContaining("must be a UUID")]);
    expect(problems(rules({ networks: [{ port: "port-1" }] }))).toEqual([expect.stringContaining("must be a UUID")]);
    expect(problems(rules({ networks: [{ uuid: "D0C10AD0000040008000000000000001" }] }))).toEqual([]);
  });

  it("a __proto__ key anywhere in a body is refused with its path (zod would drop it silently)", async () => {
    const { status, body } = await put("/v1/groups/protokey", '{"image":"cirros","flavor":"m1.tiny","max":3,"metadata":{"__proto__":"x","role":"web"}}');
    expect(status).toBe(400);
    expect(body.error.details).toEqual([{ path: "body.metadata.__proto__", message: expect.stringContaining("__proto__") }]);
  });

  it("a deeply nested body is searched without exhausting the stack", async () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const { status, body } = await put("/v1/groups/deep", deep);
    expect(status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
  });

  it.each([["NUL", "launch\u0000"], ["ESC", "launch \u001b[31mred"], ["newline", "line one\nline two"], ["C1", "a\u009bb"]])("an override reason with %s is refused", async (_name, reason) => {
    const { status, body } = await put("/v1/groups/web/override", JSON.stringify({ desired: 2, minutes: 10, reason }), OPERATOR);
    expect(status).toBe(400);
    expect(body.error.details).toEqual([{ path: "body.reason", message: expect.stringContaining("control characters") }]);
  });

  it("no refused request reached the service", () => {
    expect(reached).toEqual([]);
  });
});

describe("token configuration", () => {
  const TOKEN = "shared-token-0123456789abcdef";
  const messageOf = (sources: Parameters<typeof configuredTokens>[0]): string => {
    try {
      configuredTokens(sources);
    } catch (e) {
      if (e instanceof ApiError) return `${e.status} ${e.message}`;
      throw e;
    }
    return "accepted";
  };

  it("the same token in NOVASCALE_TOKENS and NOVASCALE_TOKEN is refused (it would silently lose its admin role)", () => {
    const message = messageOf({ NOVASCALE_TOKENS: JSON.stringify([{ name: "ci", token: TOKEN, role: "read" }]), NOVASCALE_TOKEN: TOKEN });
    expect(message).toMatch(/^503 NOVASCALE_TOKEN is the same token as NOVASCALE_TOKENS entry 0 \('ci'\)/);
    expect(message).not.toContain(TOKEN.slice(0, 8));
  });

  it("a NOVASCALE_TOKENS entry named local-admin next to NOVASCALE_TOKEN is refused", () => {
    expect(messageOf({ NOVASCALE_TOKENS: JSON.stringify([{ name: "local-admin", token: "x".repeat(20), role: "read" }]), NOVASCALE_TOKEN: TOKEN })).toMatch(/named 'local-admin'/);
  });

  it.each([["a space", "token with a space 0123"], ["a tab", "token\twith-a-tab-0123"], ["a newline inside", "token-0123\n456789abc"], ["non-ASCII", "tökén-0123456789abc"]])(
    "a token with %s is refused (no Bearer header could carry it), without quoting it",
    (_what, token) => {
      const message = messageOf({ NOVASCALE_TOKENS: JSON.stringify([{ name: "ci", token, role: "admin" }]) });
      expect(message).toMatch(/^503 NOVASCALE_TOKENS is invalid: 0\.token: tokens are visible ASCII/);
      expect(message).not.toContain("0123");
    },
  );

  it("NOVASCALE_TOKEN with a space inside is refused with the reason", () => {
    expect(messageOf({ NOVASCALE_TOKEN: "local token 0123456789" })).toMatch(/^503 NOVASCALE_TOKEN is invalid: tokens are visible ASCII/);
  });

  it("a trailing newline (as `wrangler secret put` may store it) on NOVASCALE_TOKEN is trimmed, and the token then matches", async () => {
    const entries = configuredTokens({ NOVASCALE_TOKEN: `${TOKEN}\n` });
    expect((await findToken(entries, TOKEN))?.name).toBe("local-admin");
  });

  it("property: whatever is wrong in NOVASCALE_TOKENS, the 503 quotes no run of 4 characters of any token", () => {
    const tokenArb = fc.string({ unit: fc.constantFrom(...Array.from("ABCDEFGH0123456789-_ ~")), minLength: 1, maxLength: 40 });
    const entryArb = fc.record(
      { name: fc.constantFrom("ci", "", "x".repeat(101)), token: tokenArb, role: fc.constantFrom("read", "root", 7), extra: fc.option(tokenArb, { nil: undefined }) },
      { requiredKeys: ["token"] },
    );
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 3 }), tokenArb, (entries, local) => {
        const list = entries.map(({ extra, ...e }) => (extra === undefined ? e : { ...e, [extra]: "admin" }));
        const message = messageOf({ NOVASCALE_TOKENS: JSON.stringify(list), NOVASCALE_TOKEN: local });
        if (message === "accepted") return;
        const secrets = [local.trim(), ...entries.flatMap((e) => [e.token, ...(e.extra === undefined ? [] : [e.extra])])];
        for (const secret of secrets) {
          for (let i = 0; i + 4 <= secret.length; i++) {
            const run = secret.slice(i, i + 4);
            // The message's own words are not the token's: skip runs that the fixed text holds anyway.
            if (FIXED_TEXT.includes(run)) continue;
            expect(message).not.toContain(run);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Every fixed word configuredTokens may write (names and paths included), for the property above. */
const FIXED_TEXT = [
  "503 NOVASCALE_TOKENS is invalid: NOVASCALE_TOKEN is invalid: is the same token as NOVASCALE_TOKENS entry",
  "tokens need at least 16 characters; tokens are visible ASCII without spaces or control characters (no Authorization header could carry this one)",
  "unknown field(s): only name, token and role are allowed; duplicate token name; Invalid option: expected one of",
  "Too small: expected string to have >=1 characters Too big: expected string to have <=100 characters",
  "Invalid input: expected string, received number 'ci' 'local-admin' the name NOVASCALE_TOKEN acts under: rename it",
  "one token has one role; remove one of them (root) 0.name 1.token 2.role read operate admin",
].join(" ");
