// The dashboard's reading of a rolling refresh (dashboard/src/refresh-state.ts): its phase, replaced n of m, the threshold, old/new members.
import { describe, expect, it } from "vitest";
import { hasRefreshRules, imageAge, isRefreshing, refreshSummary, targetImage } from "../../dashboard/src/refresh-state.ts";
import type { RefreshProgress, RefreshView } from "../../dashboard/src/types.ts";

const progress = (over: Partial<RefreshProgress> = {}): RefreshProgress => ({
  old: 2,
  oldParked: 0,
  newReady: 1,
  newPending: 1,
  failed: 0,
  replaced: 1,
  inService: 3,
  minInService: 3,
  inWindow: true,
  ...over,
});
const view = (over: Partial<RefreshView> = {}): RefreshView => ({
  targetImageId: "img-new",
  startedAt: "2026-12-07T20:00:00Z",
  trigger: "manual",
  ignoreWindow: false,
  replaced: 1,
  failed: 0,
  progress: progress(),
  ...over,
});
const status = (refresh: RefreshView | null, request: { author: string; at: string; ignoreWindow: boolean } | null = null, rules: Record<string, unknown> = { refresh: { failureThreshold: 3 } }) => ({
  rules,
  refresh,
  refreshRequest: request,
});

describe("refreshSummary", () => {
  it("an open refresh is in progress, cancellable, with replaced counted against the replaced plus the old ones left", () => {
    const s = refreshSummary(status(view({ progress: progress({ old: 2, oldParked: 1, replaced: 1 }) })));
    expect([s.phase, s.label, s.cancellable]).toEqual(["running", "in progress", true]);
    expect(s.replacedOf).toEqual({ replaced: 1, total: 4 });
  });
  it("outside every window it says it waits for one", () => {
    const s = refreshSummary(status(view({ progress: progress({ inWindow: false }) })));
    expect([s.waitingForWindow, s.label]).toEqual([true, "in progress, waiting for a window"]);
  });
  it("a waiting request wins over the refresh before it (the next tick starts a new one)", () => {
    const s = refreshSummary(status(view({ completedAt: "2026-12-07T19:00:00Z" }), { author: "ops", at: "2026-12-07T20:01:00Z", ignoreWindow: true }));
    expect([s.phase, s.cancellable, s.replacedOf]).toEqual(["waiting", true, undefined]);
  });
  it("halted and done are closed: nothing to cancel", () => {
    expect(refreshSummary(status(view({ halted: { reason: "2 new server(s) failed", at: "2026-12-07T20:05:00Z" } }))).phase).toBe("halted");
    expect(refreshSummary(status(view({ completedAt: "2026-12-07T20:05:00Z" }))).cancellable).toBe(false);
    expect(refreshSummary(status(null)).phase).toBe("none");
  });
  it("the failure threshold comes from the rules, else the config's default of 2", () => {
    expect(refreshSummary(status(view({ failed: 1 }))).failureThreshold).toBe(3);
    expect(refreshSummary(status(view(), null, { refresh: {} })).failureThreshold).toBe(2);
  });
  it("a status from a server without refresh fields reads as none (absent fields)", () => {
    expect(refreshSummary({ rules: {} }).phase).toBe("none");
    expect(isRefreshing({ rules: {} })).toBe(false);
  });
});

describe("refresh rules and members", () => {
  it("only an object under `refresh` counts as refresh rules", () => {
    expect([hasRefreshRules({ refresh: {} }), hasRefreshRules({}), hasRefreshRules({ refresh: null })]).toEqual([true, false, false]);
  });
  it("members are measured against the pinned image of an open or halted refresh, else what the image resolves to now", () => {
    expect(targetImage(view(), "img-later")).toBe("img-new");
    expect(targetImage(view({ halted: { reason: "cancelled by ops", at: "2026-12-07T20:05:00Z" } }), "img-later")).toBe("img-new");
    expect(targetImage(view({ completedAt: "2026-12-07T20:05:00Z" }), "img-later")).toBe("img-later");
    expect(targetImage(null, null)).toBeNull();
  });
  it("a member is new on the target, old on another image, unmarked when either is unknown", () => {
    expect([imageAge("a", "a"), imageAge("b", "a"), imageAge(null, "a"), imageAge("a", null)]).toEqual(["new", "old", null, null]);
  });
});
