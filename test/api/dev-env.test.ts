// npm start's env-file handling: .dev.vars parsed like dotenv, values written so wrangler reads them back exactly.
import { describe, expect, it } from "vitest";
import { mergeSettings, parseDotEnv, serializeDotEnv } from "../../scripts/dev-env.ts";

/** What wrangler's --env-file loader does to a value: dotenv-expand unescapes `\$` (and would expand `$X`). */
function wranglerReadsBack(text: string): Record<string, string> {
  const parsed = parseDotEnv(text);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.replace(/\\\$/g, "$")]));
}

describe("parseDotEnv", () => {
  it("reads KEY=value lines, ignoring comments, blanks and `export`", () => {
    const text = "# a comment\n\nOS_AUTH_URL=https://keystone.example/v3\nexport OS_USERNAME = alice  \n";
    expect(parseDotEnv(text)).toEqual({ OS_AUTH_URL: "https://keystone.example/v3", OS_USERNAME: "alice" });
  });

  it("keeps single-quoted values literally, including # and spaces", () => {
    expect(parseDotEnv("OS_PASSWORD='p#ss word'\n")).toEqual({ OS_PASSWORD: "p#ss word" });
  });

  it("cuts an unquoted value at #", () => {
    expect(parseDotEnv("OS_REGION_NAME=RegionOne # the only one\n")).toEqual({ OS_REGION_NAME: "RegionOne" });
  });

  it("reads a JSON token list in single quotes", () => {
    const list = '[{"name":"a","token":"t-0123456789abcdef","role":"admin"}]';
    expect(parseDotEnv(`NOVASCALE_TOKENS='${list}'`).NOVASCALE_TOKENS).toBe(list);
  });
});

describe("serializeDotEnv", () => {
  it("round-trips values with $, quotes, backslashes and # through wrangler's loader", () => {
    const values = { A: "pa$$word", B: "it's \"quoted\"", C: "back\\slash\\$x", D: "hash # inside", E: "" };
    expect(wranglerReadsBack(serializeDotEnv(values))).toEqual(values);
  });

  it("writes values with line breaks so they read back with the line breaks", () => {
    const values = { KEY: "-----BEGIN-----\nab$c\n-----END-----" };
    expect(wranglerReadsBack(serializeDotEnv(values))).toEqual(values);
  });

  it("refuses a value with line breaks and a double quote rather than writing something else", () => {
    expect(() => serializeDotEnv({ A: 'two\n"lines"' })).toThrow(/line breaks/);
  });

  it("leaves out undefined values", () => {
    expect(serializeDotEnv({ A: undefined, B: "b" })).toBe("B='b'\n");
  });
});

describe("mergeSettings", () => {
  it("takes novascale's settings from the environment over .dev.vars, and nothing else from the environment", () => {
    const devVars = { OS_AUTH_URL: "https://a.example/v3", OS_USERNAME: "from-file" };
    const environment = { OS_USERNAME: "from-env", PATH: "/usr/bin" };
    expect(mergeSettings(devVars, environment)).toEqual({ OS_AUTH_URL: "https://a.example/v3", OS_USERNAME: "from-env" });
  });

  it("keeps every other variable of .dev.vars (wrangler no longer reads that file itself)", () => {
    expect(mergeSettings({ SOME_FUTURE_SECRET: "x" }, {})).toEqual({ SOME_FUTURE_SECRET: "x" });
  });
});
