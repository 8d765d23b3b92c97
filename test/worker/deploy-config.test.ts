// What wrangler.toml promises a deployment beyond bindings: Workers Logs on, so an unattended Worker's logs are kept.
import { describe, expect, it } from "vitest";
import toml from "../../wrangler.toml?raw";

/** The lines of one top-level `[table]` of a TOML text, up to the next table header (comments dropped). */
function table(text: string, name: string): string[] {
  const lines = text.split("\n").map((l) => l.replace(/#.*$/, "").trim());
  const start = lines.indexOf(`[${name}]`);
  if (start === -1) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith("["));
  return lines.slice(start + 1, end === -1 ? undefined : end).filter((l) => l !== "");
}

describe("wrangler.toml", () => {
  it("enables Workers Logs ([observability] enabled = true)", () => {
    expect(table(toml, "observability")).toContain("enabled = true");
  });
});
