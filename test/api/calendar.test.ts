// Windows and exception calendars through the real worker: the plan (?at=) across a week, Christmas and both DST switches; timeline and status name the rules.
import { describe, expect, it } from "vitest";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";
import reference from "../core/schedule/fixtures/thunderbird/reference.json";
import { thunderbirdCalendars } from "../support/thunderbird.ts";

interface PlanBody {
  at: string;
  desired: { value: number; source: string; reason: string };
  steps: Array<{ kind: string; count?: number }>;
}
interface TimelineBody {
  points: Array<{ at: string; value: number; source: string; reason: string }>;
  truncated: boolean;
  through: string;
}

/** "Mon-Fri 08:00-20:00 Europe/Berlin: 4; Sat 10:00-14:00: 2; else 1; 24-25 Dec: 0". */
const officeRules = rules({
  max: 10,
  default: 1,
  schedules: [
    { name: "office hours", window: "Mon-Fri 08:00-20:00", timezone: "Europe/Berlin", desired: 4 },
    { name: "saturday", window: "Sat 10:00-14:00", timezone: "Europe/Berlin", desired: 2 },
  ],
  exceptions: [{ name: "christmas", dates: ["2026-12-24", "2026-12-25"], timezone: "Europe/Berlin", desired: 0 }],
});

async function planAt(group: string, at: string): Promise<PlanBody> {
  const res = await send<PlanBody>("GET", `/v1/groups/${group}/plan?at=${encodeURIComponent(at)}`, { as: "read" });
  if (res.status !== 200) throw new Error(`plan at ${at}: HTTP ${res.status} ${res.text}`);
  return res.body;
}

async function countsAt(group: string, instants: Array<[string, string]>): Promise<Array<[string, number, string]>> {
  const out: Array<[string, number, string]> = [];
  for (const [label, at] of instants) {
    const plan = await planAt(group, at);
    out.push([label, plan.desired.value, plan.desired.source]);
  }
  return out;
}

describe("GET /v1/groups/{name}/plan?at= with windows and exceptions (Europe/Berlin)", () => {
  it("plans the right count across a week (Berlin winter, UTC+1)", async () => {
    await createGroup("cal-week", officeRules);
    expect(
      await countsAt("cal-week", [
        ["Mon 07:59", "2026-11-30T06:59:00Z"],
        ["Mon 08:00", "2026-11-30T07:00:00Z"],
        ["Wed 19:59", "2026-12-02T18:59:00Z"],
        ["Wed 20:00", "2026-12-02T19:00:00Z"],
        ["Sat 09:59", "2026-12-05T08:59:00Z"],
        ["Sat 10:00", "2026-12-05T09:00:00Z"],
        ["Sat 13:59", "2026-12-05T12:59:00Z"],
        ["Sat 14:00", "2026-12-05T13:00:00Z"],
        ["Sun 12:00", "2026-12-06T11:00:00Z"],
      ]),
    ).toEqual([
      ["Mon 07:59", 1, "default"],
      ["Mon 08:00", 4, "window"],
      ["Wed 19:59", 4, "window"],
      ["Wed 20:00", 1, "default"],
      ["Sat 09:59", 1, "default"],
      ["Sat 10:00", 2, "window"],
      ["Sat 13:59", 2, "window"],
      ["Sat 14:00", 1, "default"],
      ["Sun 12:00", 1, "default"],
    ]);
  });

  it("plans 0 on 24 and 25 December (local days), even inside office hours, and the windows again after", async () => {
    await createGroup("cal-xmas", officeRules);
    expect(
      await countsAt("cal-xmas", [
        ["Wed 23 Dec 23:59", "2026-12-23T22:59:00Z"],
        ["Thu 24 Dec 00:00", "2026-12-23T23:00:00Z"],
        ["Thu 24 Dec 10:00", "2026-12-24T09:00:00Z"],
        ["Fri 25 Dec 12:00", "2026-12-25T11:00:00Z"],
        ["Fri 25 Dec 23:59", "2026-12-25T22:59:00Z"],
        ["Sat 26 Dec 11:00", "2026-12-26T10:00:00Z"],
        ["Mon 28 Dec 09:00", "2026-12-28T08:00:00Z"],
      ]),
    ).toEqual([
      ["Wed 23 Dec 23:59", 1, "default"],
      ["Thu 24 Dec 00:00", 0, "exception"],
      ["Thu 24 Dec 10:00", 0, "exception"],
      ["Fri 25 Dec 12:00", 0, "exception"],
      ["Fri 25 Dec 23:59", 0, "exception"],
      ["Sat 26 Dec 11:00", 2, "window"],
      ["Mon 28 Dec 09:00", 4, "window"],
    ]);
    const eve = await planAt("cal-xmas", "2026-12-24T09:00:00Z");
    expect(eve.desired.reason).toBe("exception 'christmas' (2026-12-24 Europe/Berlin): desired 0");
  });

  it("keeps 08:00-20:00 local across the spring-forward switch (29 March: 07:00Z before, 06:00Z after)", async () => {
    await createGroup("cal-spring", officeRules);
    expect(
      await countsAt("cal-spring", [
        ["Fri 27 Mar 07:30 CET", "2026-03-27T06:30:00Z"],
        ["Fri 27 Mar 08:00 CET", "2026-03-27T07:00:00Z"],
        ["Sat 28 Mar 10:00 CET", "2026-03-28T09:00:00Z"],
        ["Mon 30 Mar 07:59 CEST", "2026-03-30T05:59:00Z"],
        ["Mon 30 Mar 08:00 CEST", "2026-03-30T06:00:00Z"],
        ["Mon 30 Mar 19:59 CEST", "2026-03-30T17:59:00Z"],
        ["Mon 30 Mar 20:00 CEST", "2026-03-30T18:00:00Z"],
      ]),
    ).toEqual([
      ["Fri 27 Mar 07:30 CET", 1, "default"],
      ["Fri 27 Mar 08:00 CET", 4, "window"],
      ["Sat 28 Mar 10:00 CET", 2, "window"],
      ["Mon 30 Mar 07:59 CEST", 1, "default"],
      ["Mon 30 Mar 08:00 CEST", 4, "window"],
      ["Mon 30 Mar 19:59 CEST", 4, "window"],
      ["Mon 30 Mar 20:00 CEST", 1, "default"],
    ]);
  });

  it("keeps 08:00-20:00 local across the fall-back switch (25 October: 06:00Z before, 07:00Z after)", async () => {
    await createGroup("cal-fall", officeRules);
    expect(
      await countsAt("cal-fall", [
        ["Fri 23 Oct 08:00 CEST", "2026-10-23T06:00:00Z"],
        ["Sat 24 Oct 13:59 CEST", "2026-10-24T11:59:00Z"],
        ["Sat 24 Oct 14:00 CEST", "2026-10-24T12:00:00Z"],
        ["Mon 26 Oct 07:30 CET", "2026-10-26T06:30:00Z"],
        ["Mon 26 Oct 08:00 CET", "2026-10-26T07:00:00Z"],
      ]),
    ).toEqual([
      ["Fri 23 Oct 08:00 CEST", 4, "window"],
      ["Sat 24 Oct 13:59 CEST", 2, "window"],
      ["Sat 24 Oct 14:00 CEST", 1, "default"],
      ["Mon 26 Oct 07:30 CET", 1, "default"],
      ["Mon 26 Oct 08:00 CET", 4, "window"],
    ]);
  });

  it("plans boots for the window's count (no servers yet: boot 4 inside office hours)", async () => {
    await createGroup("cal-boots", officeRules);
    const plan = await planAt("cal-boots", "2026-12-02T10:00:00Z");
    expect(plan.steps.filter((s) => s.kind === "boot").reduce((n, s) => n + (s.count ?? 0), 0)).toBe(4);
  });

  it("reads a pasted iCalendar with a yearly Christmas (folded lines, VALUE=DATE, DTEND exclusive)", async () => {
    const ics = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "BEGIN:VEVENT",
      "SUMMARY:Christmas Eve and Christmas D",
      " ay",
      "DTSTART;VALUE=DATE:20201224",
      "DTEND;VALUE=DATE:20201226",
      "RRULE:FREQ=YEARLY",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    await createGroup("cal-ics", { ...officeRules, exceptions: [{ name: "holidays", ics, timezone: "Europe/Berlin", desired: 0 }] });
    const plan = await planAt("cal-ics", "2027-12-24T09:00:00Z");
    expect([plan.desired.value, plan.desired.reason]).toEqual([0, "exception 'holidays' (2027-12-24 Europe/Berlin): desired 0"]);
  });
});

describe("real holiday calendars through the API", () => {
  it("accepts a big real calendar (Colombia's, 362,661 bytes) in PUT, and its days decide", async () => {
    const text = (await thunderbirdCalendars()).get("ColombianHolidays.ics")!;
    expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(96 * 1024);
    const day = (reference as unknown as { calendars: Record<string, Record<string, string[]>> }).calendars["ColombianHolidays.ics"]!.UTC!.find((d) => d.startsWith("2027"))!;
    await createGroup("cal-colombia", { ...officeRules, exceptions: [{ name: "colombia", ics: text, timezone: "UTC", desired: 0 }] });
    const plan = await planAt("cal-colombia", `${day}T12:00:00Z`);
    expect([plan.desired.value, plan.desired.reason]).toEqual([0, `exception 'colombia' (${day} UTC): desired 0`]);
  });

  it("refuses a calendar over 512 KiB with 400 naming exceptions.0.ics and its size in bytes", async () => {
    const text = `BEGIN:VCALENDAR\r\n${"X-FILLER:0123456789\r\n".repeat(27_000)}END:VCALENDAR\r\n`;
    const res = await send<ApiErrorBody>("PUT", "/v1/groups/cal-big", { json: { ...officeRules, exceptions: [{ name: "big", ics: text, desired: 0 }] } });
    expect(res.status).toBe(400);
    expect(res.text).toContain("exceptions.0.ics");
    expect(res.text).toContain("bytes (at most 524288)");
  });
});

describe("timeline and status explain windows and exceptions by name", () => {
  it("the timeline lists window edges and the exception, complete up to its end", async () => {
    await createGroup("cal-timeline", officeRules);
    const res = await send<TimelineBody>("GET", "/v1/groups/cal-timeline/timeline?hours=336", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.truncated).toBe(false);
    expect(Date.parse(res.body.through) - Date.parse(res.body.points[0]?.at ?? "")).toBe(336 * 3_600_000);
    const reasons = res.body.points.map((p) => p.reason);
    expect(reasons.some((r) => r.startsWith("window 'office hours' Mon-Fri 08:00-20:00 Europe/Berlin"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("window 'saturday' Sat 10:00-14:00 Europe/Berlin"))).toBe(true);
  });

  it("status's next changes come from the same change points", async () => {
    await createGroup("cal-status", officeRules);
    const res = await send<{ nextChanges: Array<{ source: string }> }>("GET", "/v1/groups/cal-status", { as: "read" });
    expect(res.body.nextChanges.length).toBeGreaterThan(0);
    expect(res.body.nextChanges.every((c) => ["window", "default", "exception"].includes(c.source))).toBe(true);
  });

  it("a bad window is refused with its field path, and nothing is stored", async () => {
    const res = await send<ApiErrorBody & { error: { details: Array<{ path: string }> } }>("PUT", "/v1/groups/cal-bad", {
      json: rules({ schedules: [{ window: "Mon-Fri 8-20", desired: 4 }] }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d) => d.path)).toEqual(["body.schedules.0.window"]);
    expect((await send("GET", "/v1/groups/cal-bad", { as: "read" })).status).toBe(404);
  });
});
