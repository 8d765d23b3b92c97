// The rolling refresh in the dashboard (issue 31) against the `npm start` stack: waiting for a window, Start refresh (ignoring it) until done, Cancel, a broken image's halt, and no Start without `refresh` in the rules.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCall, apiJson, BASE, contrastFailures, launch, openPage, signIn, TOKENS, unlabelledControls, waitForApi } from "./support.ts";

/** The stack's fake cloud (scripts/start.mjs: NOVASCALE_FAKE_CLOUD_PORT, default 8790): its /_fake control API re-points images. */
const FAKE = `http://127.0.0.1:${process.env["NOVASCALE_FAKE_CLOUD_PORT"] ?? "8790"}/_fake`;
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/** A disruption window three days from now: a drift-started refresh waits for it for the whole test. */
const LATER_WINDOW = `${DAYS[new Date(Date.now() + 3 * 86_400_000).getUTCDay()]} 03:00-04:00`;

let browser: Browser;
const groups: string[] = [];
const faults: string[] = [];

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  for (const g of groups) await apiCall("DELETE", `/v1/groups/${g}?force=true`);
  for (const id of faults) await fetch(`${FAKE}/faults/${id}`, { method: "DELETE" });
  await browser?.close();
});

async function fake(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${FAKE}${path}`, { method, headers: { "Content-Type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(res.ok, `${method} /_fake${path}: HTTP ${res.status}`).toBe(true);
  return res.json();
}

interface StatusJson {
  actualByStatus: Record<string, number> | null;
  refresh: { targetImageId: string; completedAt?: string; halted?: { reason: string }; progress?: { inWindow: boolean } } | null;
}
const status = async (name: string) => (await apiJson("GET", `/v1/groups/${name}`)).json as StatusJson;

/**
 * A group of `count` on its own image (so the demo group's is never touched), converged; then a new image
 * takes the name (`broken`: one whose servers go to ERROR, faulted before it takes the name). With the
 * default `refresh` rules, whose only window is days away, the tick that sees the drift pins the new image
 * and waits for the window.
 */
async function driftedGroup(name: string, count: number, opts: { refresh?: Record<string, unknown>; broken?: boolean } = {}): Promise<{ oldImage: string; newImage: string }> {
  const image = `${name}-golden`;
  const first = (await fake("POST", "/images", { name: image })) as { image: { id: string } };
  const refresh = opts.refresh ?? { windows: [LATER_WINDOW], timezone: "UTC" };
  const rules = { image, flavor: "m1.tiny", min: 0, max: count + 1, default: count, namePrefix: name, refresh };
  const put = await apiJson("PUT", `/v1/groups/${name}`, rules);
  expect(put.status, JSON.stringify(put.json)).toBe(201);
  groups.push(name);
  await waitForApi(`${count} servers ACTIVE`, async () => ((await status(name)).actualByStatus?.["ACTIVE"] ?? 0) === count, { group: name });
  const next = (await fake("POST", "/images", { name: `${image}-next` })) as { image: { id: string } };
  if (opts.broken === true) faults.push(((await fake("POST", "/faults", { kind: "imageBootsError", imageId: next.image.id })) as { id: string }).id);
  // The old one steps aside first: never two images of one name (a tick in between finds none and waits).
  await fake("PUT", `/images/${first.image.id}`, { name: `${image}-old` });
  await fake("PUT", `/images/${next.image.id}`, { name: image });
  if (opts.refresh === undefined) {
    await waitForApi("the drift pinned as a refresh, outside its window", async () => {
      const r = (await status(name)).refresh;
      return r?.targetImageId === next.image.id && r.progress?.inWindow === false;
    });
  }
  return { oldImage: first.image.id, newImage: next.image.id };
}

/** Clicks the page's Refresh until the refresh card's phase is `phase` (the page itself refreshes every 15 s). */
async function waitForPhase(page: Page, phase: string): Promise<void> {
  const state = page.locator(`#refresh [data-field="refresh-state"][data-phase="${phase}"]`);
  const deadline = Date.now() + 120_000;
  while ((await state.count()) === 0) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the refresh to show '${phase}'`);
    await page.getByRole("button", { name: "Refresh", exact: true }).click();
    await page.waitForTimeout(1_000);
  }
}

describe("rolling refresh in the dashboard", () => {
  it("a drifted group waits for its window (the overview marks it refreshing); Start refresh ignoring the window replaces every member and shows done", async () => {
    const { oldImage, newImage } = await driftedGroup("rfui", 2);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    const row = page.locator('tr[data-group="rfui"]');
    await row.locator("[data-refreshing]").waitFor();
    await row.getByRole("link", { name: "rfui" }).click();

    // Waiting for the window: the pinned target, the count, the next window, the members marked old.
    await page.locator('#refresh [data-field="refresh-state"][data-phase="running"]').waitFor();
    expect(await page.locator('#refresh [data-field="refresh-state"]').innerText()).toBe("in progress, waiting for a window");
    expect(await page.locator('#refresh [data-field="refresh-target"]').innerText()).toBe(newImage);
    expect(await page.locator('#refresh [data-field="refresh-replaced"]').innerText()).toBe("0 of 2");
    expect(await page.locator('#refresh [data-field="refresh-failed"]').innerText()).toBe("0 (it halts at 2)");
    expect(await page.locator('#refresh [data-field="refresh-window"]').innerText()).toContain(`outside the disruption windows ${LATER_WINDOW} (UTC): nothing is replaced until the next opens at`);
    await page.locator('#members td[data-image="old"]').nth(1).waitFor();
    expect(await page.locator('#members td[data-image="old"] code').allInnerTexts()).toEqual([oldImage, oldImage]);
    // The new card and controls keep the page's rules: AA contrast, every control labelled.
    expect(await contrastFailures(page)).toEqual([]);
    expect(await unlabelledControls(page)).toEqual([]);

    // Start, ignoring the window: confirmed in the dialog, answered in the result line.
    await page.getByLabel("Ignore the disruption windows").check();
    await page.getByRole("button", { name: "Start refresh" }).click();
    const dialog = page.locator("dialog[open]");
    expect(await dialog.innerText()).toContain("also outside the disruption windows");
    await dialog.getByRole("button", { name: "Start refresh" }).click();
    await page.locator(".result .ok").filter({ hasText: "Refresh requested by local-admin: the next tick pins the image and starts, ignoring the windows." }).waitFor();

    // The ticks replace both, new first; the page ends on done with every member on the new image.
    await waitForApi("the refresh completed", async () => (await status("rfui")).refresh?.completedAt !== undefined);
    await waitForPhase(page, "done");
    expect(await page.locator('#refresh [data-field="refresh-target"]').innerText()).toBe(newImage);
    expect(await page.locator('#refresh [data-field="refresh-done"]').innerText()).toContain("every member runs the target image");
    // The manual start took over the drift's refresh (same target), with the window ignored.
    expect(await page.locator("#refresh").innerText()).toContain("started by hand, ignoring the windows");
    await page.getByRole("button", { name: "List again" }).click();
    await page.locator('#members td[data-image="new"]').nth(1).waitFor();
    expect(await page.locator('#members td[data-image="old"]').count()).toBe(0);
    // Closed: nothing left to cancel.
    expect(await page.getByRole("button", { name: "Cancel refresh" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("Cancel refresh halts an open refresh with the operator named, and the old member stays", async () => {
    const { oldImage } = await driftedGroup("rfcancel", 1);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/rfcancel`);
    await page.locator('#refresh [data-field="refresh-state"][data-phase="running"]').waitFor();
    await page.getByRole("button", { name: "Cancel refresh" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Cancel refresh" }).click();
    await page.locator(".result .ok").filter({ hasText: "Refresh cancelled" }).waitFor();
    await waitForPhase(page, "halted");
    expect(await page.locator('#refresh [data-field="refresh-halted"]').innerText()).toMatch(/^cancelled by local-admin/);
    expect(await page.getByRole("button", { name: "Cancel refresh" }).count()).toBe(0);
    await page.locator('#members td[data-image="old"] code').filter({ hasText: oldImage }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it("a broken new image (ERROR on boot) halts the refresh: the page says why and counts the failure; the old member stays", async () => {
    const { oldImage, newImage } = await driftedGroup("rfbroken", 1, { refresh: { failureThreshold: 1 }, broken: true });
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/rfbroken`);
    await waitForApi("the refresh halted", async () => (await status("rfbroken")).refresh?.halted !== undefined, { group: "rfbroken" });
    await waitForPhase(page, "halted");
    const halted = await page.locator('#refresh [data-field="refresh-halted"]').innerText();
    expect(halted).toContain(`1 new server(s) failed (threshold 1): refresh to image ${newImage}`);
    expect(halted).toContain("halted and rolled back");
    expect(await page.locator('#refresh [data-field="refresh-failed"]').innerText()).toBe("1 (it halts at 1)");
    await page.getByRole("button", { name: "List again" }).click();
    await page.locator('#members td[data-image="old"] code').filter({ hasText: oldImage }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it("a group without `refresh` in its rules shows no refresh card and a disabled Start refresh that says why", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    const start = page.getByRole("button", { name: "Start refresh" });
    await start.waitFor();
    expect(await start.isDisabled()).toBe(true);
    const why = await start.getAttribute("aria-describedby");
    expect(await page.locator(`[id="${why}"]`).innerText()).toBe("Start refresh needs `refresh` in the rules (Edit rules).");
    expect(await page.locator("#refresh").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("an operate token sees the refresh but no Start or Cancel (the API allows them to admins only)", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.operate);
    await page.goto(`${BASE}/#/groups/rfui`);
    await page.locator('#refresh [data-field="refresh-state"]').waitFor();
    await page.getByRole("button", { name: "Reconcile now" }).waitFor();
    expect(await page.getByRole("button", { name: "Start refresh" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Cancel refresh" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
