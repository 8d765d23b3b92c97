// Many clouds in the dashboard against the `npm start` stack (default and east, plus `broken`: east's Keystone with a wrong password): cloud/region on the rows, the filter, the Clouds panel.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCall, apiJson, BASE, launch, openPage, signIn, TOKENS } from "./support.ts";

let browser: Browser;
const BROKEN_GROUP = "clouds-broken";

interface CloudJson {
  name: string;
  region: string | null;
  state: string;
  lastError?: { message: string };
}

async function clouds(): Promise<CloudJson[]> {
  const res = await fetch(`${BASE}/v1/clouds`, { headers: { Authorization: `Bearer ${TOKENS.read}` } });
  return ((await res.json()) as { clouds: CloudJson[] }).clouds;
}

/** Waits (polling, at most `limitMs`) until `check` answers something; the test then asserts on it. */
async function until<T>(check: () => Promise<T | undefined>, limitMs = 45_000): Promise<T | undefined> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() - started > limitMs) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function overview(): Promise<{ page: Page; close: () => Promise<void>; problems: string[] }> {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, TOKENS.read);
  await page.locator('tr[data-group="web"]').waitFor();
  await page.locator('tr[data-group="web-east"]').waitFor();
  await page.locator("#clouds table").waitFor();
  return { page, problems, close: () => context.close() };
}

beforeAll(async () => {
  browser = await launch();
});

const MOVER_GROUP = "clouds-mover";
const MOVER_POLICY = "clouds-mover-nightly";

afterAll(async () => {
  await apiCall("DELETE", `/v1/snapshot-policies/${MOVER_POLICY}`);
  await apiCall("DELETE", `/v1/groups/${MOVER_GROUP}?force=true`);
  await apiCall("DELETE", `/v1/groups/${BROKEN_GROUP}?force=true`);
  await browser?.close();
});

describe("dashboard: many clouds", () => {
  it("shows each group's cloud and region on its overview row", async () => {
    const { page, close, problems } = await overview();
    const cell = (group: string) => page.locator(`tr[data-group="${group}"] td[data-label="cloud"]`).innerText();
    expect((await cell("web")).split("\n")).toEqual(["default", "RegionOne"]);
    expect((await cell("web-east")).split("\n")).toEqual(["east", "RegionTwo"]);
    expect(problems).toEqual([]);
    await close();
  });

  it("the cloud filter hides the other cloud's rows, offers only that cloud's regions, and a reload keeps it", async () => {
    const { page, close, problems } = await overview();
    expect(await page.locator("#cloud-filter option").allInnerTexts()).toEqual(["all clouds", "broken", "default", "east"]);
    await page.selectOption("#cloud-filter", "east");
    await page.locator('tr[data-group="web"]').waitFor({ state: "detached" });
    expect(await page.locator('tr[data-group="web-east"]').count()).toBe(1);
    expect(await page.locator("#region-filter option").allInnerTexts()).toEqual(["all regions", "RegionTwo"]);
    expect(new URL(page.url()).hash).toBe("#/?cloud=east");

    await page.reload();
    await page.locator('tr[data-group="web-east"]').waitFor();
    expect(await page.locator("#cloud-filter").inputValue()).toBe("east");
    expect(await page.locator('tr[data-group="web"]').count()).toBe(0);

    // A region of the default cloud: only its rows.
    await page.selectOption("#cloud-filter", "");
    await page.selectOption("#region-filter", "RegionOne");
    await page.locator('tr[data-group="web-east"]').waitFor({ state: "detached" });
    expect(await page.locator('tr[data-group="web"]').count()).toBe(1);
    expect(new URL(page.url()).hash).toBe("#/?region=RegionOne");
    expect(problems).toEqual([]);
    await close();
  });

  it("the Clouds panel shows a cloud with a wrong password as failing with its error, first, and the good ones as ok", async () => {
    // A group on the broken cloud makes the ticks list it (default 0: it has nothing to boot anyway).
    const put = await apiJson("PUT", `/v1/groups/${BROKEN_GROUP}`, { image: "cirros", flavor: "m1.tiny", min: 0, max: 1, default: 0, cloud: "broken" });
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    const broken = await until(async () => (await clouds()).find((c) => c.name === "broken" && c.state === "down"));
    expect(broken?.lastError?.message).toBeTruthy();

    const { page, close, problems } = await overview();
    const row = page.locator('#clouds tr[data-cloud="broken"]');
    await row.waitFor();
    expect(await row.getAttribute("data-state")).toBe("failing");
    expect(await row.locator("[data-health]").innerText()).toBe("failing");
    expect(await row.locator('td[data-label="last error"]').innerText()).toContain(broken?.lastError?.message ?? "(none)");
    expect(await page.locator("#clouds-summary").innerText()).toBe("Failing: broken (RegionTwo)");
    expect(await page.locator("#clouds tbody tr").first().getAttribute("data-cloud")).toBe("broken");
    for (const name of ["default", "east"]) expect(await page.locator(`#clouds tr[data-cloud="${name}"]`).getAttribute("data-state")).toBe("ok");
    // The broken cloud's group says where the trouble is; the good clouds' groups do not.
    expect(await page.locator(`tr[data-group="${BROKEN_GROUP}"] td[data-label="cloud"]`).innerText()).toContain("cloud failing");
    expect(await page.locator('tr[data-group="web-east"] td[data-label="cloud"]').innerText()).not.toContain("cloud failing");
    expect(problems).toEqual([]);
    await close();
    // Gone again, so the other files' overviews see only their own failing groups (a forced delete lists nothing).
    expect(await apiCall("DELETE", `/v1/groups/${BROKEN_GROUP}?force=true`)).toBe(200);
  });

  it("a snapshot policy whose group moved to another cloud says so first on its page, with what to set", async () => {
    const empty = { image: "cirros", flavor: "m1.tiny", min: 0, max: 1, default: 0 };
    expect((await apiJson("PUT", `/v1/groups/${MOVER_GROUP}`, { ...empty, cloud: "east", region: "RegionTwo" })).status).toBe(201);
    const policy = { select: { group: MOVER_GROUP }, cron: "0 3 * * *", retention: { keepDaily: 7 }, cloud: "east", region: "RegionTwo" };
    expect((await apiJson("PUT", `/v1/snapshot-policies/${MOVER_POLICY}`, policy)).status).toBe(201);
    const moved = await apiJson("PUT", `/v1/groups/${MOVER_GROUP}`, empty);
    expect(moved.status, JSON.stringify(moved.json)).toBe(200);

    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.read);
    await page.goto(`${BASE}/#/policies/${MOVER_POLICY}`);
    const first = page.locator("#status ul.problems li").first();
    await first.waitFor();
    expect(await first.textContent()).toBe(
      `group '${MOVER_GROUP}' runs in cloud 'default', region 'RegionOne', the policy in cloud 'east', region 'RegionTwo': it would snapshot none of the group's servers; set "cloud": "default", "region": "RegionOne" in the policy`,
    );
    expect(problems).toEqual([]);
    await context.close();
  });
});
