// Issue 29 in a real browser: a group created from the form (a window and a holiday), its Rules, week view and Members, an edit, and a 412 from a concurrent edit that loses no input.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCall, apiJson, BASE, contrastFailures, fitsWidth, launch, openPage, signIn, TOKENS, unlabelledControls } from "./support.ts";

let browser: Browser;
const NAME = `br-rules-${Date.now().toString(36)}`;
/** Tomorrow in Berlin: the holiday the form sets, so it is inside the week view. */
const HOLIDAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit" }).format(Date.now() + 86_400_000);

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await apiCall("DELETE", `/v1/groups/${NAME}?force=true`);
  await browser?.close();
});

interface StoredJson {
  etag: string;
  revision: number;
  rules: { max: number; schedules: { window?: string; timezone?: string; desired: number }[]; exceptions: { name: string; dates: string[]; desired: number }[] } & Record<string, unknown>;
}
const stored = async () => (await apiJson("GET", `/v1/groups/${NAME}`)).json as StoredJson;

async function openEditor(page: Page): Promise<void> {
  await page.goto(`${BASE}/#/groups/${NAME}/edit`);
  await page.locator("#rules-editor").waitFor();
  // The stored rules are loaded into the form.
  await page.waitForFunction(() => (document.querySelector("textarea.json") as HTMLTextAreaElement | null)?.value.includes('"window"') === true);
}

describe("rules in the dashboard", () => {
  it("creates a group with a window and a holiday from the form, after a 7-day preview", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.locator("#new-group").click();
    const form = page.locator("#rules-editor");
    await form.waitFor();
    await form.getByLabel("Group name").fill(NAME);
    await form.getByLabel("Image (name or id)").fill("cirros");
    await form.getByLabel("Flavor (name or id)").fill("m1.tiny");
    await form.getByLabel("Min", { exact: true }).fill("0");
    await form.getByLabel("Max", { exact: true }).fill("4");
    await form.getByLabel("Default (outside windows)").fill("1");
    await form.getByLabel("Window (days and hours)").fill("Mon-Sun 08:00-18:00");
    await form.getByLabel("Servers in the window").fill("3");
    await form.getByLabel("Holiday name").fill("Browser Day");
    await form.getByLabel("Holiday dates (YYYY-MM-DD, comma-separated)").fill(HOLIDAY);
    await form.getByLabel("Servers on holidays").fill("0");
    await form.getByLabel("Time zone (windows and holidays)").fill("Europe/Berlin");
    // The JSON editor follows the form.
    expect(await form.getByLabel("All rules as JSON").inputValue()).toContain('"window": "Mon-Sun 08:00-18:00"');
    await form.getByRole("button", { name: "Preview 7 days" }).click();
    await page.locator("#preview table.week").waitFor();
    expect(await page.locator(`#preview th.holiday[data-date="${HOLIDAY}"]`).innerText()).toContain("Browser Day");
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await contrastFailures(page)).toEqual([]);
    await form.getByRole("button", { name: "Create group" }).click();
    await page.waitForURL(new RegExp(`#/groups/${NAME}$`));
    const now = await stored();
    expect(now.rules.schedules).toEqual([{ window: "Mon-Sun 08:00-18:00", timezone: "Europe/Berlin", desired: 3 }]);
    expect(now.rules.exceptions).toEqual([{ name: "Browser Day", dates: [HOLIDAY], timezone: "Europe/Berlin", desired: 0 }]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a field's error from the API's own schema at the field, and saves nothing", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await openEditor(page);
    await page.getByLabel("Min", { exact: true }).fill("9");
    await page.getByRole("button", { name: "Save rules" }).click();
    const minField = page.locator('input[data-path="body.min"]');
    await page.locator(".field-error").filter({ hasText: "greater than max" }).waitFor();
    expect(await minField.getAttribute("aria-invalid")).toBe("true");
    expect((await stored()).revision).toBe(1);
    await context.close();
  });

  it("the group page shows the Rules with next occurrences, the week view with the holiday, and the Members", async () => {
    expect(await apiCall("POST", `/v1/groups/${NAME}/reconcile`)).toBe(200);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/${NAME}`);
    const rules = page.locator("#rules");
    await rules.locator("#week-view table.week").waitFor();
    expect(await rules.locator('tr[data-entry="0"]').innerText()).toContain("Mon-Sun 08:00-18:00");
    await rules.locator('tr[data-entry="0"] ul.occurrences li').first().waitFor();
    expect(await rules.locator('tr[data-exception="0"]').innerText()).toContain(`${HOLIDAY}: Browser Day`);
    expect(await rules.locator(`th.holiday[data-date="${HOLIDAY}"]`).innerText()).toContain("Browser Day");
    // Every holiday hour is 0; times carry their UTC instant on hover.
    const holidayCells = await rules.locator(`td.holiday[data-date="${HOLIDAY}"]`).allInnerTexts();
    expect(holidayCells.length).toBeGreaterThan(0);
    expect(new Set(holidayCells)).toEqual(new Set(["0"]));
    // Image and flavor resolve with the members listing, which arrives after the rules ("resolving…" until then).
    await rules.locator('[data-field="resolved-id"]').nth(1).waitFor();
    expect(await rules.locator('[data-field="resolved-id"]').count()).toBe(2);
    const members = page.locator("#members table.members");
    await members.waitFor();
    await members.locator("tbody tr[data-server]").first().waitFor();
    expect(await members.locator("tbody tr[data-server]").count()).toBeGreaterThan(0);
    expect(await page.locator("#rules time[title$='UTC']").count()).toBeGreaterThan(0);
    await page.locator("#server-hours table.hours").waitFor();
    expect(await contrastFailures(page)).toEqual([]);
    expect(await unlabelledControls(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("edits the rules (saved with If-Match) and the page shows the new ones", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await openEditor(page);
    await page.getByLabel("Servers in the window").fill("4");
    await page.getByRole("button", { name: "Save rules" }).click();
    await page.locator("#save-result .ok").filter({ hasText: "Saved: revision 2" }).waitFor();
    expect((await stored()).rules.schedules[0]?.desired).toBe(4);
    await context.close();
  });

  it("meets a 412 from a concurrent edit without losing input, then saves over it on purpose", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await openEditor(page);
    await page.getByLabel("Max", { exact: true }).fill("6");
    await page.getByLabel("Holiday name").fill("My Day");
    // Someone else changes the rules meanwhile.
    const theirs = await stored();
    expect((await apiJson("PUT", `/v1/groups/${NAME}`, { ...theirs.rules, default: 2 })).status).toBe(200);
    await page.getByRole("button", { name: "Save rules" }).click();
    const conflict = page.locator("#save-result .conflict");
    await conflict.waitFor();
    expect(await conflict.innerText()).toContain("HTTP 412");
    // Nothing typed is lost.
    expect(await page.getByLabel("Max", { exact: true }).inputValue()).toBe("6");
    expect(await page.getByLabel("Holiday name").inputValue()).toBe("My Day");
    expect(await page.getByLabel("All rules as JSON").inputValue()).toContain('"max": 6');
    expect((await stored()).rules.max).toBe(4);
    await conflict.getByRole("button", { name: "Show their version" }).click();
    await page.locator("pre.theirs").filter({ hasText: '"default": 2' }).waitFor();
    await page.getByRole("button", { name: "Save rules" }).click();
    await page.locator("#save-result .ok").waitFor();
    const after = await stored();
    expect([after.rules.max, after.rules.exceptions[0]?.name]).toEqual([6, "My Day"]);
    await context.close();
  });

  it("the overview puts a failing group first with its error on the row", async () => {
    const bad = `${NAME}-bad`;
    expect((await apiJson("PUT", `/v1/groups/${bad}`, { image: "no-such-image", flavor: "m1.tiny", max: 2, default: 1 })).status).toBe(201);
    expect(await apiCall("POST", `/v1/groups/${bad}/reconcile`)).toBe(200);
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    const first = page.locator("table.groups tbody tr").first();
    await page.locator(`tr[data-group="${bad}"]`).waitFor();
    expect(await first.getAttribute("data-group")).toBe(bad);
    expect(await first.locator(".row-error").innerText()).toMatch(/no-such-image/);
    await context.close();
    await apiCall("DELETE", `/v1/groups/${bad}?force=true`);
  });

  it("saves a misspelled flavor and shows the cloud's warning with the closest name at the field and under the save", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await openEditor(page);
    await page.getByLabel("Flavor (name or id)").fill("m1.smal");
    await page.getByRole("button", { name: "Save rules" }).click();
    const warnings = page.locator("#save-warnings");
    await warnings.waitFor();
    expect(await warnings.innerText()).toContain('did you mean "m1.small"');
    expect(await page.locator(".field-error").filter({ hasText: "Warning:" }).count()).toBe(1);
    expect((await stored()).rules["flavor"]).toBe("m1.smal");
    expect(await contrastFailures(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
    expect((await apiJson("PUT", `/v1/groups/${NAME}`, { ...(await stored()).rules, flavor: "m1.tiny" })).status).toBe(200);
  });

  it("fits a 390 px phone: the group page with its week view and members, and the editor", async () => {
    const { context, page } = await openPage(browser, { width: 390, height: 844 });
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/${NAME}`);
    await page.locator("#rules #week-view table.week").waitFor();
    await page.locator("#members table.members").waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await openEditor(page);
    expect(await fitsWidth(page)).toBe(true);
    await context.close();
  });
});
