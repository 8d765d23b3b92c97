// The status -> destiny table: one rule per row, plus SHUTOFF policy and the build timeout.
import { describe, expect, it } from "vitest";
import { destinyOf } from "../../../src/core/scaling/destiny.ts";
import { BOOT_INTENT_KEY, PARK_KEY, bootIntentMarker } from "../../../src/core/model/membership.ts";
import { formatParkMark } from "../../../src/core/scaling/parking.ts";
import { NOW, rules, server } from "../builders.ts";

const defaults = rules();

describe("destinyOf", () => {
  it("ACTIVE counts", () => {
    expect(destinyOf(server({ status: "ACTIVE" }), defaults, NOW).destiny).toBe("count");
  });

  it("BUILD within the build timeout is a build", () => {
    expect(destinyOf(server({ status: "BUILD", ageMin: 29 }), defaults, NOW).destiny).toBe("build");
  });

  it("BUILD past the build timeout (default 30 min) is replaced, and says for how long it was stuck", () => {
    const c = destinyOf(server({ status: "BUILD", ageMin: 40 }), defaults, NOW);
    expect(c.destiny).toBe("replace");
    expect(c.why).toBe("stuck in BUILD for 40 min (build timeout 30 min)");
  });

  it("the build timeout comes from the group's limits", () => {
    const patient = rules({ limits: { buildTimeoutMinutes: 60 } });
    expect(destinyOf(server({ status: "BUILD", ageMin: 40 }), patient, NOW).destiny).toBe("build");
  });

  it("clock skew: a fresh BUILD server on a cloud 35 min behind is timed from when novascale sent its boot, not from Nova's created", () => {
    // Nova stamped `created` 36 minutes before the Worker's now; novascale sent the boot 1 minute ago.
    const fresh = server({ status: "BUILD", ageMin: 36, metadata: { [BOOT_INTENT_KEY]: bootIntentMarker("k3j9x2a", new Date(NOW.getTime() - 60_000)) } });
    expect(destinyOf(fresh, defaults, NOW).destiny).toBe("build");
  });

  it("clock skew cuts both ways: a BUILD server whose boot was sent 31 min ago is stuck, whatever Nova's created says", () => {
    const stuck = server({ status: "BUILD", ageMin: 1, metadata: { [BOOT_INTENT_KEY]: bootIntentMarker("k3j9x2a", new Date(NOW.getTime() - 31 * 60_000)) } });
    expect(destinyOf(stuck, defaults, NOW).why).toBe("stuck in BUILD for 31 min (build timeout 30 min)");
  });

  it("a BUILD server without a timed marker is timed by created shifted by the cloud's measured offset", () => {
    const old = server({ status: "BUILD", ageMin: 40 });
    expect(destinyOf(old, defaults, NOW, -35 * 60_000).destiny).toBe("build");
    expect(destinyOf(old, defaults, NOW, 0).destiny).toBe("replace");
  });

  it("BUILD with an unreadable creation time is never declared stuck", () => {
    const s = { ...server({ status: "BUILD" }), created: "not a date" };
    expect(destinyOf(s, defaults, NOW).destiny).toBe("build");
  });

  it("ERROR is replaced", () => {
    expect(destinyOf(server({ status: "ERROR" }), defaults, NOW).destiny).toBe("replace");
  });

  it("SHUTOFF is replaced by default (replaceShutoff)", () => {
    expect(destinyOf(server({ status: "SHUTOFF" }), defaults, NOW).destiny).toBe("replace");
  });

  for (const taskState of ["image_snapshot", "image_snapshot_pending", "image_pending_upload", "image_uploading"]) {
    it(`a SHUTOFF server novascale parked, with task ${taskState} under way, is still parked and left alone (parking), never replaced`, () => {
      const parked = server({ status: "SHUTOFF", taskState, metadata: { [PARK_KEY]: formatParkMark(new Date(NOW.getTime() - 3_600_000)) } });
      expect(destinyOf(parked, rules({ scaleIn: { action: "stop" } }), NOW).destiny).toBe("parking");
    });
  }

  for (const status of ["SHUTOFF", "ERROR"]) {
    it(`a ${status} server novascale booted (no park mark), its snapshot uploading, waits for the upload: not replaced (issue 24, combination property)`, () => {
      expect(destinyOf(server({ status, taskState: "image_uploading" }), defaults, NOW).destiny).toBe("wait");
    });
  }

  it("a stopped server waiting for its snapshot says why", () => {
    expect(destinyOf(server({ status: "SHUTOFF", taskState: "image_snapshot" }), defaults, NOW).why).toContain("task image_snapshot under way: not replaced before the snapshot ends");
  });

  it("SHUTOFF counts when replaceShutoff is off", () => {
    expect(destinyOf(server({ status: "SHUTOFF" }), rules({ replaceShutoff: false }), NOW).destiny).toBe("count");
  });

  for (const status of ["REBOOT", "HARD_REBOOT", "RESIZE", "VERIFY_RESIZE", "REVERT_RESIZE", "MIGRATING", "REBUILD", "PASSWORD"]) {
    it(`${status} is transitional: counts and is left alone (wait)`, () => {
      expect(destinyOf(server({ status }), defaults, NOW).destiny).toBe("wait");
    });
  }

  for (const status of ["RESCUE", "PAUSED", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED"]) {
    it(`${status} was put there by a person: counts and is left alone (wait)`, () => {
      expect(destinyOf(server({ status }), defaults, NOW).destiny).toBe("wait");
    });
  }

  for (const status of ["DELETED", "SOFT_DELETED"]) {
    it(`${status} is gone: does not count`, () => {
      expect(destinyOf(server({ status }), defaults, NOW).destiny).toBe("gone");
    });
  }

  it("task_state deleting makes any status gone", () => {
    expect(destinyOf(server({ status: "ACTIVE", taskState: "deleting" }), defaults, NOW).destiny).toBe("gone");
    expect(destinyOf(server({ status: "ERROR", taskState: "deleting" }), defaults, NOW).destiny).toBe("gone");
  });

  it("Nova's own UNKNOWN status is unknown", () => {
    expect(destinyOf(server({ status: "UNKNOWN" }), defaults, NOW).destiny).toBe("unknown");
  });

  it("a status Nova may add one day is unknown, and named", () => {
    const c = destinyOf(server({ status: "HIBERNATING" }), defaults, NOW);
    expect(c).toMatchObject({ destiny: "unknown", why: "unknown status HIBERNATING" });
  });

  it("an inherited object property name is not mistaken for a status", () => {
    expect(destinyOf(server({ status: "constructor" }), defaults, NOW).destiny).toBe("unknown");
  });

  it("reads the status case-insensitively", () => {
    expect(destinyOf(server({ status: "active" }), defaults, NOW).destiny).toBe("count");
  });
});
