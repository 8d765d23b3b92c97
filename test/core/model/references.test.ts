// Reference checks as data: which lookups a write makes, how answers become warnings, and the strict verdict.
import { describe, expect, it } from "vitest";
import { referenceQueries, referenceWarnings, strictVerdict, type ReferenceWarning } from "../../../src/core/model/references.ts";

describe("referenceQueries", () => {
  it("asks for the image, the flavor and the key pair, in that order", () => {
    expect(referenceQueries({ image: "cirros", flavor: { id: "42" }, keyName: "ops" })).toEqual([
      { field: "image", kind: "image", ref: "cirros" },
      { field: "flavor", kind: "flavor", ref: { id: "42" } },
      { field: "keyName", kind: "keyPair", ref: "ops" },
    ]);
  });

  it("asks nothing of rules that name nothing (a power group)", () => {
    expect(referenceQueries({})).toEqual([]);
  });

  it("asks for each flavor of a list of preferences, by its index", () => {
    const rules = { flavor: ["m1.large", "m1.small"] } as unknown as Parameters<typeof referenceQueries>[0];
    expect(referenceQueries(rules).map((q) => q.field)).toEqual(["flavor.0", "flavor.1"]);
  });
});

describe("referenceWarnings", () => {
  const queries = referenceQueries({ image: "cirros", flavor: "m1.smal", keyName: "ops" });

  it("gives nothing when every lookup succeeded", () => {
    expect(referenceWarnings(queries, [{ ok: true }, { ok: true }, { ok: true }])).toEqual([]);
  });

  it("keeps the cloud's words for an unknown name (they carry the closest names)", () => {
    const message = 'no flavor is named "m1.smal"; did you mean "m1.small"?';
    const warnings = referenceWarnings(queries, [{ ok: true }, { ok: false, category: "config", kind: "nameNotFound", message }, { ok: true }]);
    expect(warnings).toEqual([{ field: "flavor", code: "not-found", message }]);
  });

  it("calls a 404 by id not-found and says which id", () => {
    const byId = referenceQueries({ image: { id: "abc" } });
    const [warning] = referenceWarnings(byId, [{ ok: false, category: "notFound", status: 404, message: "No image found with ID abc" }]);
    expect(warning).toEqual({ field: "image", code: "not-found", message: expect.stringContaining("image id abc does not exist") });
  });

  it("tells an ambiguous name from an unusable one", () => {
    const warnings = referenceWarnings(queries, [
      { ok: false, category: "config", kind: "ambiguousName", message: "2 images are named" },
      { ok: false, category: "config", kind: "notUsable", message: "disabled" },
      { ok: true },
    ]);
    expect(warnings.map((w) => w.code)).toEqual(["ambiguous", "not-usable"]);
  });

  it("calls a 5xx, a timeout or refused credentials cloud-unreachable, never a problem with the rules", () => {
    const warnings = referenceWarnings(queries, [
      { ok: false, category: "transient", status: 503, message: "Service Unavailable" },
      { ok: false, category: "transient", kind: "timeout", message: "cut at the deadline" },
      { ok: false, category: "auth", status: 401, message: "The request you have made requires authentication." },
    ]);
    expect(warnings.map((w) => w.code)).toEqual(["cloud-unreachable", "cloud-unreachable", "cloud-unreachable"]);
  });
});

describe("strictVerdict", () => {
  const notFound: ReferenceWarning = { field: "flavor", code: "not-found", message: "no flavor" };
  const unreachable: ReferenceWarning = { field: "image", code: "cloud-unreachable", message: "could not check the image: 503" };

  it("writes when there is nothing to warn about", () => {
    expect(strictVerdict([])).toEqual({ outcome: "write" });
  });

  it("refuses (invalid) when any reference is wrong, even if others could not be checked", () => {
    expect(strictVerdict([unreachable, notFound])).toEqual({ outcome: "invalid", warnings: [unreachable, notFound] });
  });

  it("answers unchecked, naming the cause, when the cloud could not answer", () => {
    expect(strictVerdict([unreachable])).toEqual({ outcome: "unchecked", cause: unreachable.message });
  });

  it("never refuses for a policy left in another cloud-region (the group moves first, then its policy)", () => {
    const elsewhere: ReferenceWarning = { field: "cloud", code: "policy-elsewhere", message: "snapshot policy 'p' selects this group: ..." };
    expect(strictVerdict([elsewhere])).toEqual({ outcome: "write" });
    expect(strictVerdict([elsewhere, notFound])).toEqual({ outcome: "invalid", warnings: [notFound] });
  });
});
