// Browser test helpers: Debian's Chromium through playwright-core, the stack's URL and tokens (from scripts/test-browser.mjs).
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const BASE = process.env["NOVASCALE_BROWSER_BASE"] ?? "http://127.0.0.1:8787";
export const TOKENS = JSON.parse(process.env["NOVASCALE_BROWSER_TOKENS"] ?? "{}") as { admin: string; operate: string; read: string };

export async function launch(): Promise<Browser> {
  const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** A fresh tab (its own sessionStorage) that collects console errors and page errors (CSP violations land there). */
export async function openPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  return { context, page, problems };
}

/** Signs in through the form with the keyboard only (the token field has focus; Enter submits). */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${BASE}/`);
  await page.waitForSelector("#token:focus");
  await page.keyboard.type(token);
  await page.keyboard.press("Enter");
}

/** The parts of GET /v1/groups/{name} the tests look at. */
interface GroupStatusJson {
  override: { desired: number } | null;
  pause: { by: string } | null;
  health: string;
  actualByStatus: Record<string, number> | null;
  parking: { parked: { id: string }[] } | null;
}

/** The demo group's status straight from the API (to check what the page did). */
export async function groupStatus(name = "web"): Promise<GroupStatusJson> {
  const res = await fetch(`${BASE}/v1/groups/${name}`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } });
  return (await res.json()) as GroupStatusJson;
}

export async function apiCall(method: string, path: string): Promise<number> {
  const res = await fetch(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${TOKENS.admin}` } });
  await res.text();
  return res.status;
}

/** An admin API call with a JSON body; answers the status and the parsed body. */
export async function apiJson(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${TOKENS.admin}`, "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${BASE}${path}`, init);
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : (JSON.parse(text) as unknown) };
}

/** Text on the page whose contrast with its background is below WCAG AA (4.5:1, 3:1 for large text), as "tag "text": ratio". */
export async function contrastFailures(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) =>
      [r!, g!, b!].map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4)).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i]!, 0);
    const background = (el: Element | null): number[] => {
      for (let e = el; e !== null; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const text = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== "");
      if (!text || (el as HTMLElement).offsetParent === null) continue;
      const style = getComputedStyle(el);
      const a = lum(rgb(style.color));
      const b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`${el.tagName.toLowerCase()} "${el.textContent!.trim().slice(0, 30)}": ${ratio.toFixed(2)}`);
    }
    return out;
  });
}

/** Controls without a label (or aria-label, or a button's text). */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("input, select, textarea, button"))
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        return !((labels !== null && labels.length > 0) || el.getAttribute("aria-label") !== null || (el.tagName === "BUTTON" && el.textContent?.trim() !== ""));
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
}

/** True when nothing makes the page scroll sideways. */
export async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1);
}

/** What a timed-out wait prints of `group`: its status and its activity, so a rare failure says what the group did. */
async function lastSeen(group: string): Promise<string> {
  const [now, activity] = await Promise.all([apiJson("GET", `/v1/groups/${group}`), apiJson("GET", `/v1/groups/${group}/activity`)]);
  return `; ${group} now: ${JSON.stringify(now.json)}; activity: ${JSON.stringify(activity.json)}`;
}

/** Polls the API until `ok` holds (the stack ticks every 3 s), failing after `limitMs` with what was awaited and, for `group`, its last status and activity. */
export async function waitForApi(what: string, ok: () => Promise<boolean>, opts: { group?: string; limitMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.limitMs ?? 120_000);
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${opts.group === undefined ? "" : await lastSeen(opts.group)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
