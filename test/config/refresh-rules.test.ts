// The refresh rules' format: defaults, each rejection names its field, and no `refresh` key leaves it out.
import { describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../src/config/group.ts";

const base = { image: "ubuntu-24.04", flavor: "m1.small", max: 5 };
const paths = (input: unknown): string[] => {
  const r = GroupRulesSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.path.map(String).join("."));
};

describe("group rules: refresh", () => {
  it("no refresh key: the parsed rules carry none (today's behaviour)", () => {
    expect(GroupRulesSchema.parse(base).refresh).toBeUndefined();
  });
  it("an empty refresh object gets the defaults: maxSurge 1, any time, UTC, 2 failures halt", () => {
    expect(GroupRulesSchema.parse({ ...base, refresh: {} }).refresh).toEqual({ maxSurge: 1, windows: [], timezone: "UTC", failureThreshold: 2 });
  });
  it("a health check gets its grace and timeout defaults and may use {ip}", () => {
    expect(GroupRulesSchema.parse({ ...base, refresh: { healthCheck: { url: "http://{ip}:8080/healthz" } } }).refresh?.healthCheck).toEqual({
      url: "http://{ip}:8080/healthz",
      graceSeconds: 300,
      timeoutMs: 2000,
    });
  });
  it("a bad window is named by its path", () => {
    expect(paths({ ...base, refresh: { windows: ["Mon-Fri 02:00-05:00", "Funday 1-2"] } })).toEqual(["refresh.windows.1"]);
  });
  it("a non-http health URL, a zero maxSurge and an unknown zone are each named", () => {
    expect(paths({ ...base, refresh: { healthCheck: { url: "ftp://{ip}/" } } })).toEqual(["refresh.healthCheck.url"]);
    expect(paths({ ...base, refresh: { maxSurge: 0 } })).toEqual(["refresh.maxSurge"]);
    expect(paths({ ...base, refresh: { timezone: "Mars/Olympus" } })).toEqual(["refresh.timezone"]);
  });
  it("a power group never boots, so it may not refresh", () => {
    expect(paths({ mode: "power", max: 3, refresh: {} })).toContain("refresh");
  });
});
