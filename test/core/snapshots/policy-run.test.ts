// The pure decisions of a policy run between plan and send: the createImage ledger and the budget's share (core/policy-run.ts).
import { describe, expect, it } from "vitest";
import { fitPolicySteps, keptLedger, LEDGER_HOLD_MS, withoutResent, type SentSnapshot } from "../../../src/core/snapshots/policy-run.ts";
import { policySnapshotProperties, type PolicyStep } from "../../../src/core/snapshots/policy-snapshots.ts";
import { decideRetention, retentionGuard } from "../../../src/core/snapshots/retention.ts";
import type { ObservedImage } from "../../../src/core/model/types.ts";

const FIRING = "2026-11-21T01:30:00.000Z";
const snap = (serverId: string, firing = FIRING): PolicyStep => ({ kind: "snapshot", policy: "p", serverId, serverName: serverId, imageName: `p-${serverId}`, firing, attempt: 1, reason: "due" });
const del = (imageId: string): PolicyStep => ({ kind: "deleteImage", policy: "p", imageId, imageName: imageId, reason: "retention" });
const now = new Date("2026-11-21T01:35:00Z");
const sent = (serverId: string, extra: Partial<SentSnapshot> = {}): SentSnapshot => ({ serverId, firing: FIRING, at: "2026-11-21T01:31:00.000Z", ...extra });

describe("withoutResent", () => {
  it("holds back a snapshot of a server already sent for this firing whose image no listing shows yet", () => {
    const { steps, held } = withoutResent([snap("a"), snap("b")], [sent("a", { imageId: "img-a" })], new Set(), now);
    expect(steps.map((s) => (s.kind === "snapshot" ? s.serverId : ""))).toEqual(["b"]);
    expect(held.map((s) => s.serverId)).toEqual(["a"]);
  });

  it("holds back after a lost answer (no image id known)", () => {
    expect(withoutResent([snap("a")], [sent("a")], new Set(), now).steps).toEqual([]);
  });

  it("lets the planner decide once the image is listed (a failed attempt may be retried)", () => {
    expect(withoutResent([snap("a")], [sent("a", { imageId: "img-a" })], new Set(["img-a"]), now).steps).toHaveLength(1);
  });

  it("stops holding after LEDGER_HOLD_MS", () => {
    const later = new Date(Date.parse("2026-11-21T01:31:00Z") + LEDGER_HOLD_MS);
    expect(withoutResent([snap("a")], [sent("a")], new Set(), later).steps).toHaveLength(1);
  });

  it("never holds another firing's snapshot or a deleteImage", () => {
    const steps = [snap("a", "2026-11-22T01:30:00.000Z"), del("old")];
    expect(withoutResent(steps, [sent("a")], new Set(), now).steps).toEqual(steps);
  });
});

describe("keptLedger and fitPolicySteps", () => {
  it("keeps only the latest firing's ledger entries", () => {
    expect(keptLedger([sent("a"), sent("b", { firing: "2026-11-20T01:30:00.000Z" })], FIRING).map((e) => e.serverId)).toEqual(["a"]);
    expect(keptLedger([sent("a")], null)).toEqual([]);
  });

  it("gives a short budget to snapshots first; deletes wait", () => {
    const { kept, deferred } = fitPolicySteps([del("x"), snap("a"), snap("b"), del("y")], 2);
    expect(kept.map((s) => s.kind)).toEqual(["snapshot", "snapshot"]);
    expect(deferred.map((s) => s.kind)).toEqual(["deleteImage", "deleteImage"]);
  });
});

describe("the retention guard with hostile names", () => {
  it("a group naming an image 'constructor', 'toString' or '__proto__' is guarded like any other, and nothing throws", () => {
    const guard = retentionGuard(
      [
        { name: "a", image: "constructor" },
        { name: "b", image: "toString" },
        { name: "c", image: "__proto__" },
      ],
      [{ imageId: "constructor" }],
    );
    const image = (id: string, name: string): ObservedImage => ({ id, name, status: "active", created: "2026-11-01T00:30:00.000Z", properties: policySnapshotProperties("p", "s", "2026-11-01T00:30:00.000Z") });
    const decided = decideRetention({
      snapshots: [image("new", "newest"), image("constructor", "constructor"), image("x", "toString"), image("y", "__proto__"), image("z", "hasOwnProperty")].map((i, n) => ({
        image: i,
        at: `2026-11-0${5 - n}T00:30:00.000Z`,
        manual: false,
        source: "s",
      })),
      rules: { keepLast: 1 },
      keepManual: 0,
      timezone: "UTC",
      now: new Date("2026-11-05T01:00:00Z"),
      latestFiring: "2026-11-05T00:30:00.000Z",
      perSource: true,
      guard,
      stuckAfterMs: 3_600_000,
    });
    expect(decided.map((d) => [d.image.name, d.action])).toEqual([
      ["newest", "keep"],
      ["constructor", "keep"],
      ["toString", "keep"],
      ["__proto__", "keep"],
      ["hasOwnProperty", "delete"],
    ]);
  });
});
