// The group page's Signals section in a real browser: list receivers, create one (URL and secret shown once, copy button), delete one; by role.
import { createHmac } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiJson, BASE, launch, openPage, signIn, TOKENS } from "./support.ts";

let browser: Browser;

interface ReceiverJson {
  id: string;
  name: string;
}

async function receivers(): Promise<ReceiverJson[]> {
  return ((await apiJson("GET", "/v1/groups/web/receivers")).json as { receivers: ReceiverJson[] }).receivers;
}

/** Revokes this file's receivers (their live signals end with them: the demo group falls back to its schedule). */
async function cleanUp(): Promise<void> {
  for (const r of await receivers()) if (r.name.startsWith("browser-")) await apiJson("DELETE", `/v1/groups/web/receivers/${encodeURIComponent(r.id)}`);
}

beforeAll(async () => {
  browser = await launch();
  await cleanUp();
});

afterAll(async () => {
  await cleanUp();
  await browser?.close();
});

describe("dashboard: a group's Signals section", () => {
  it("an admin creates a receiver: its URL and secret are shown once with copy buttons, and it is listed with action, amount and duration", async () => {
    const { context, page, problems } = await openPage(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    const form = page.locator("#signals form.receiver-create");
    await form.waitFor();
    await form.getByLabel("Name").fill("browser-alerts");
    await form.getByLabel("At least (servers)").fill("3");
    await form.getByLabel("For (minutes after each signal)").fill("45");
    await form.getByRole("button", { name: "Create receiver" }).click();
    const created = page.locator("#receiver-created");
    await created.waitFor();
    const url = await page.locator("#receiver-url").inputValue();
    const secret = await page.locator("#receiver-secret").inputValue();
    expect(url).toMatch(new RegExp(`^${BASE.replace(/[.]/g, "\\.")}/v1/signals/web\\.[0-9a-f]{24}$`));
    expect(secret.length).toBeGreaterThanOrEqual(20);
    expect(await created.innerText()).toContain("shown only now");

    await page.locator('button[data-copy="receiver-secret"]').click();
    await page.waitForFunction((s) => navigator.clipboard.readText().then((t) => t === s), secret);

    const row = page.locator('#signals tr[data-receiver="browser-alerts"]');
    await row.waitFor();
    expect(await row.locator('td[data-label="action"]').innerText()).toBe("raise");
    expect(await row.locator('td[data-label="amount"]').innerText()).toBe("at least 3");
    expect(await row.locator('td[data-label="duration"]').innerText()).toBe("45 min");
    expect(await row.locator('td[data-label="last used"]').innerText()).toBe("never");
    expect(await row.locator('td[data-label="created"]').innerText()).toContain("by local-admin");

    // The secret is never listed again: not by the API, not after a reload of the page.
    expect(JSON.stringify((await apiJson("GET", "/v1/groups/web/receivers")).json)).not.toContain(secret);
    await page.reload();
    await page.locator('#signals tr[data-receiver="browser-alerts"]').waitFor();
    expect(await page.locator("#receiver-created").count()).toBe(0);
    expect(await page.locator("body").innerText()).not.toContain(secret);

    // A signed signal to the URL it showed is accepted, and the list says when it was last used.
    const body = "{}";
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    const res = await fetch(url, { method: "POST", headers: { "Novascale-Signature": `t=${t},v1=${sig}`, "Content-Type": "application/json" }, body });
    expect(res.status).toBe(202);
    await page.reload();
    await page.locator('#signals tr[data-receiver="browser-alerts"] td[data-label="last used"]').filter({ hasText: "1 signal(s)" }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it("an admin deletes a receiver after confirming; it is gone from the page and from the API", async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.admin);
    await page.goto(`${BASE}/#/groups/web`);
    const row = page.locator('#signals tr[data-receiver="browser-alerts"]');
    await row.waitFor();
    await row.getByRole("button", { name: "Delete browser-alerts" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Delete receiver" }).click();
    await page.locator("#receiver-result .ok").filter({ hasText: "Receiver browser-alerts deleted." }).waitFor();
    await row.waitFor({ state: "detached" });
    expect((await receivers()).map((r) => r.name)).not.toContain("browser-alerts");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("a read token sees the receivers but no form and no delete button", async () => {
    const made = await apiJson("POST", "/v1/groups/web/receivers", { action: "clear", name: "browser-clear" });
    expect(made.status).toBe(201);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, TOKENS.read);
    await page.goto(`${BASE}/#/groups/web`);
    const row = page.locator('#signals tr[data-receiver="browser-clear"]');
    await row.waitFor();
    expect(await row.locator('td[data-label="amount"]').innerText()).toBe("ends all signals");
    expect(await page.locator("#signals form").count()).toBe(0);
    expect(await page.locator("#signals button").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
