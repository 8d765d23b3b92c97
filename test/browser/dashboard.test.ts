// The dashboard in a real browser (headless Chromium) against the `npm start` stack: sign-in, overview, chart, actions by role, CSP, phone width.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCall, apiJson, BASE, contrastFailures, groupStatus, launch, openPage, signIn, TOKENS, waitForApi } from "./support.ts";

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
  // Start from the demo group as npm start seeded it: no override, not paused.
  await apiCall("DELETE", "/v1/groups/web/override");
  await apiCall("POST", "/v1/groups/web/resume");
});

afterAll(async () => {
  await apiCall("DELETE", "/v1/groups/web/override");
  await apiCall("POST", "/v1/groups/web/resume");
  await browser?.close();
});

describe("dashboard", () => {
  it("is served at / with a strict Content-Security-Policy and no cookies", async () => {
    const res = await fetch(`${BASE}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("set-cookie")).toBeNull();
    const html = await res.text();
    // Nothing inline and nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\bstyle=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("a wrong token gets a clear error and no way in", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, "not-a-token-anyone-has");
    const alert = page.locator("#signin-errors [role=alert]");
    await alert.waitFor();
    expect(await alert.innerText()).toBe("Sign-in failed: unknown or revoked token (HTTP 401)");
    expect(await page.locator("table.groups").count()).toBe(0);
    await context.close();
  });

  it("signing in with an admin token (keyboard only) shows the demo group with desired and actual", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    const row = page.locator('tr[data-group="web"]');
    await row.waitFor();
    expect(await page.locator("#who").innerText()).toBe("local-admin (admin)");
    const desired = await row.locator('td[data-label="desired"] strong').innerText();
    const actual = await row.locator('td[data-label="actual"] strong').innerText();
    expect(Number(desired)).toBeGreaterThanOrEqual(2);
    expect(actual).toMatch(/^\d+$/);
    expect(await row.locator('td[data-label="desired"] .why').innerText()).toMatch(/demo (low|high)/);
    expect(await row.locator("[data-health]").count()).toBe(1);
    // The token stays in this tab's sessionStorage and nowhere else.
    expect(await page.evaluate(() => sessionStorage.getItem("novascale.token"))).toBe(TOKENS.admin);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("the group page draws the step chart with desired and actual data, and 'now'", async () => {
    const { context, page, problems } = await openPage(browser);
    // Works offline: every request the page makes goes to its own origin (no CDN, no fonts from elsewhere).
    const elsewhere: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(BASE)) elsewhere.push(r.url());
    });
    await signIn(page, TOKENS.admin);
    await page.locator('tr[data-group="web"] a').click();
    await page.waitForURL(/#\/groups\/web/);
    const chart = page.locator("#chart");
    await chart.locator("canvas").waitFor();
    await page.waitForFunction(() => Number(document.getElementById("chart")?.dataset["actualPoints"] ?? 0) > 0);
    expect(Number(await chart.getAttribute("data-desired-points"))).toBeGreaterThan(0);
    // Pixels in the desired line's colour (#1d4ed8) and the "now" marker's (#b91c1c) are on the canvas.
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector("#chart canvas") as HTMLCanvasElement;
      const data = (canvas.getContext("2d") as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data;
      const near = (i: number, r: number, g: number, b: number) => Math.abs(data[i]! - r) + Math.abs(data[i + 1]! - g) + Math.abs(data[i + 2]! - b) < 40 && data[i + 3]! > 200;
      let desired = 0;
      let now = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (near(i, 0x1d, 0x4e, 0xd8)) desired += 1;
        if (near(i, 0xb9, 0x1c, 0x1c)) now += 1;
      }
      return { desired, now };
    });
    expect(drawn.desired).toBeGreaterThan(50);
    expect(drawn.now).toBeGreaterThan(20);
    // Activity, snapshots and the dry-run plan are there too.
    await page.locator("#activity table").waitFor();
    await page.locator("#plan ol.steps, #plan p.ok, #plan p.no-steps").first().waitFor();
    await page.locator("#snapshots table, #snapshots p").first().waitFor();
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("an override set through the form changes the group's status", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    const form = page.locator("form.override");
    await form.waitFor();
    await form.getByLabel("Servers").fill("7");
    await form.getByLabel("Lasts").selectOption({ label: "1 hour" });
    await form.getByLabel("Reason").fill("browser test launch");
    await form.getByRole("button", { name: "Set override" }).click();
    // Destructive actions are confirmed in a modal dialog.
    await page.locator("dialog[open]").getByRole("button", { name: "Set override" }).click();
    await page.locator(".result .ok").filter({ hasText: "Override set: 7 server(s)" }).waitFor();
    await page.locator('#status [data-field="override"]').filter({ hasText: "browser test launch" }).waitFor();
    expect(await page.locator('#status [data-field="desired"]').innerText()).toBe("7");
    expect((await groupStatus()).override?.desired).toBe(7);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("every control on the group page has a label, and only the chosen override field shows", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    await page.locator("form.override").waitFor();
    await page.locator("#activity select").waitFor();
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input, select, textarea, button"))
        .filter((el) => {
          const labels = (el as HTMLInputElement).labels;
          const named = (labels !== null && labels.length > 0) || el.getAttribute("aria-label") !== null || (el.tagName === "BUTTON" && el.textContent?.trim() !== "");
          return !named;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unlabelled).toEqual([]);
    const form = page.locator("form.override");
    expect(await form.getByLabel("Until (your local time)").isVisible()).toBe(false);
    await form.getByLabel("Lasts").selectOption("until");
    expect(await form.getByLabel("Until (your local time)").isVisible()).toBe(true);
    await context.close();
  });

  it("all text on the group page has WCAG AA contrast against its background", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    await page.locator("#activity table").waitFor();
    await page.locator("#plan ol.steps, #plan p.ok, #plan p.no-steps").first().waitFor();
    const failures = await contrastFailures(page);
    expect(failures).toEqual([]);
    await context.close();
  });

  it("the API's own error message is shown as it is (an override without a reason)", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    const form = page.locator("form.override");
    await form.waitFor();
    await form.getByLabel("Reason").fill("");
    await form.getByRole("button", { name: "Set override" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Set override" }).click();
    const error = page.locator(".result [role=alert]");
    await error.waitFor();
    expect(await error.innerText()).toMatch(/^Override failed: .*\(HTTP 400\)/);
    expect(await error.innerText()).toContain("body.reason");
    await context.close();
  });

  it("shows the API's strings as text, never as markup (a reason with HTML in it)", async () => {
    const hostile = '<img src="x" id="injected" onerror="document.title=1">&lt;b&gt;';
    const res = await fetch(`${BASE}/v1/groups/web/override`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${TOKENS.admin}`, "Content-Type": "application/json" },
      body: JSON.stringify({ desired: 3, minutes: 30, reason: hostile }),
    });
    expect(res.status).toBe(200);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    const override = page.locator('#status [data-field="override"]');
    await override.filter({ hasText: "onerror" }).waitFor();
    expect(await override.innerText()).toContain(hostile);
    expect(await page.locator("#injected").count()).toBe(0);
    expect(problems).toEqual([]);
    await apiCall("DELETE", "/v1/groups/web/override");
    await context.close();
  });

  it("the Pause button pauses the group", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    await page.getByRole("button", { name: "Pause", exact: true }).click();
    await page.locator(".result .ok").filter({ hasText: "Paused by local-admin" }).waitFor();
    await page.locator('#status [data-health="paused"]').waitFor();
    expect(await page.locator('#status [data-field="pause"]').innerText()).toMatch(/^by local-admin/);
    expect((await groupStatus()).pause?.by).toBe("local-admin");
    // Now it offers Resume instead.
    await page.getByRole("button", { name: "Resume" }).waitFor();
    expect(await page.getByRole("button", { name: "Pause", exact: true }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("a read token sees the group but no action buttons", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.read);
    await page.locator('tr[data-group="web"]').waitFor();
    await page.goto(`${BASE}/#/groups/web`);
    await page.locator("#status").waitFor();
    await page.locator("#activity").waitFor();
    expect(await page.locator("#who").innerText()).toBe("browser-reader (read)");
    expect(await page.locator("#actions").count()).toBe(0);
    for (const name of ["Set override", "End override", "Pause", "Resume", "Reconcile now", "Snapshot now"]) {
      expect(await page.getByRole("button", { name, exact: true }).count()).toBe(0);
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it("an operate token takes a snapshot that then shows in the list with its status", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.operate);
    await page.goto(`${BASE}/#/groups/web`);
    await page.getByRole("button", { name: "Reconcile now" }).waitFor();
    await page.getByRole("button", { name: "Snapshot now" }).click();
    await page.locator(".result .ok").filter({ hasText: /^Snapshot .+ requested\.$/ }).waitFor();
    const row = page.locator("#snapshots tbody tr").first();
    await row.waitFor();
    expect(await row.locator('td[data-label="status"]').innerText()).toMatch(/^(queued|saving|active)$/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("fits a phone's width (no sideways scrolling) with the groups as stacked cards", async () => {
    const { context, page, problems } = await openPage(browser, { width: 390, height: 844 });
    await signIn(page, TOKENS.admin);
    await page.locator('tr[data-group="web"]').waitFor();
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1);
    expect(fits).toBe(true);
    expect(await page.locator('tr[data-group="web"]').evaluate((tr) => getComputedStyle(tr).display)).toBe("block");
    await page.goto(`${BASE}/#/groups/web`);
    await page.locator("#chart canvas").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("a shelve group's page shows its parked servers and the server-hours spent parked", async () => {
    const rules = { image: "cirros", flavor: "m1.tiny", min: 0, max: 2, default: 2, namePrefix: "shelf", scaleIn: { action: "shelve" } };
    const put = await apiJson("PUT", "/v1/groups/shelf", rules);
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    try {
      const { context, page, problems } = await openPage(browser);
      await signIn(page, TOKENS.admin);
      // The stack ticks every 3 s: two servers boot, then an override to 0 shelves both (parking, not deleting).
      await waitForApi("two servers ACTIVE", async () => ((await groupStatus("shelf")).actualByStatus?.["ACTIVE"] ?? 0) === 2, { group: "shelf", limitMs: 60_000 });
      const override = await apiJson("PUT", "/v1/groups/shelf/override", { desired: 0, until: new Date(Date.now() + 3_600_000).toISOString(), reason: "night" });
      expect(override.status, JSON.stringify(override.json)).toBe(200);
      await waitForApi("both servers parked", async () => ((await groupStatus("shelf")).parking?.parked.length ?? 0) === 2, { group: "shelf", limitMs: 60_000 });
      await page.goto(`${BASE}/#/groups/shelf`);
      const parked = page.locator('#status [data-field="parked"]');
      await parked.waitFor();
      expect(await parked.innerText()).toMatch(/^2: shelf-\S+ \(since .+\), shelf-\S+ \(since .+\); [\d.]+ server-hours in 7 days, [\d.]+ in 30 days$/);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await apiCall("DELETE", "/v1/groups/shelf?force=true");
    }
  });
  it("a snapshot policy shows on the overview and on its page: selected servers, retention keep/delete with reasons, activity, Pause", async () => {
    // Every minute, the demo group's servers: the stack ticks every 3 s, so snapshots appear within seconds.
    const rules = { select: { group: "web" }, cron: "* * * * *", timezone: "Europe/Berlin", retention: { keepLast: 1 }, maxConcurrent: 5 };
    const put = await apiJson("PUT", "/v1/snapshot-policies/minutely", rules);
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    try {
      await waitForApi("the policy's first snapshots", async () => {
        const view = (await apiJson("GET", "/v1/snapshot-policies/minutely")).json as { lastRun: { steps: unknown[] } | null };
        return (view.lastRun?.steps.length ?? 0) > 0;
      }, { limitMs: 60_000 });
      const { context, page, problems } = await openPage(browser);
      await signIn(page, TOKENS.admin);
      const row = page.locator('tr[data-policy="minutely"]');
      await row.waitFor();
      expect(await row.locator('td[data-label="selects"]').innerText()).toBe("members of group web");
      expect(await row.locator('td[data-label="retention"]').innerText()).toBe("keepLast 1");
      await row.getByRole("link", { name: "minutely" }).click();
      await page.locator("#servers tbody tr[data-server]").first().waitFor();
      const members = ((await groupStatus()).actualByStatus ?? {})["ACTIVE"] ?? 0;
      expect(await page.locator("#servers tbody tr[data-server]").count()).toBeGreaterThanOrEqual(Math.min(members, 1));
      await page.locator("#retention tbody tr[data-image]").first().waitFor();
      const actions = await page.locator('#retention td[data-label="action"]').allInnerTexts();
      expect(actions.every((a) => a === "keep" || a === "delete")).toBe(true);
      expect((await page.locator('#retention td[data-label="why"]').allInnerTexts()).every((why) => why.trim() !== "")).toBe(true);
      // Source servers show by name while selected; an id only for a server the policy no longer selects, and says so.
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      expect((await page.locator('#retention td[data-label="server"]').allInnerTexts()).filter((cell) => uuid.test(cell.trim()))).toEqual([]);
      await page.locator("#activity td .kind").filter({ hasText: "snapshot" }).first().waitFor();
      await page.getByRole("button", { name: "Pause", exact: true }).click();
      await page.locator('#status [data-field="pause"]').filter({ hasText: /^by local-admin/ }).waitFor();
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await apiCall("DELETE", "/v1/snapshot-policies/minutely");
    }
  });

  it("a read token sees a snapshot policy's page without a Pause button", async () => {
    const put = await apiJson("PUT", "/v1/snapshot-policies/readable", { select: { metadata: { backup: "never-matches" } }, cron: "0 3 * * *", retention: { keepDaily: 7 } });
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    try {
      const { context, page, problems } = await openPage(browser);
      await signIn(page, TOKENS.read);
      await page.goto(`${BASE}/#/policies/readable`);
      await page.locator('#status [data-field="retention"]').filter({ hasText: "keepDaily 7" }).waitFor();
      expect(await page.getByRole("button", { name: "Pause", exact: true }).count()).toBe(0);
      expect(await page.locator("#actions").count()).toBe(0);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await apiCall("DELETE", "/v1/snapshot-policies/readable");
    }
  });
});
