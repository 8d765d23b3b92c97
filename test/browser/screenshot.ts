// Makes the README's screenshots: the demo group's page after its schedule has switched a few times, down to its rules, week view, members and server-hours (docs/dashboard.png), and a snapshot policy's page (docs/dashboard-policy.png).
// Run with `npm run screenshot` (scripts/test-browser.mjs starts the stack first). NOVASCALE_SCREENSHOT_MINUTES: history to wait for (default 8).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE, launch, openPage, signIn, TOKENS } from "./support.ts";

const DOCS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");
const OUT = join(DOCS, "dashboard.png");
const POLICY_OUT = join(DOCS, "dashboard-policy.png");
const minutes = Number(process.env["NOVASCALE_SCREENSHOT_MINUTES"] ?? 8);

async function historySpanMinutes(): Promise<number> {
  const res = await fetch(`${BASE}/v1/groups/web/history?hours=1`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } });
  const points = ((await res.json()) as { points: { at: string }[] }).points;
  if (points.length < 2) return 0;
  return (Date.now() - Date.parse(points[0]!.at)) / 60_000;
}

// A policy over the demo group's servers, every 2 minutes, keeping 3: by the time the history is long
// enough, its preview shows snapshots kept and deleted.
const policy = { select: { group: "web" }, cron: "*/2 * * * *", timezone: "Europe/Berlin", retention: { keepLast: 3 }, maxConcurrent: 5 };
const put = await fetch(`${BASE}/v1/snapshot-policies/web-demo`, {
  method: "PUT",
  headers: { Authorization: `Bearer ${TOKENS.admin}`, "Content-Type": "application/json" },
  body: JSON.stringify(policy),
});
if (!put.ok) throw new Error(`could not create the demo policy: HTTP ${put.status} ${await put.text()}`);

const started = Date.now();
while ((await historySpanMinutes()) < minutes) {
  if (Date.now() - started > (minutes + 5) * 60_000) throw new Error("the demo group's history did not grow");
  await new Promise((r) => setTimeout(r, 10_000));
}

const browser = await launch();
try {
  const { page, problems } = await openPage(browser, { width: 1280, height: 1180 });
  await signIn(page, TOKENS.admin);
  await page.locator('tr[data-group="web"]').waitFor();
  await page.goto(`${BASE}/#/groups/web?hours=0.25`);
  await page.locator("#chart canvas").waitFor();
  await page.locator("#activity table").waitFor();
  await page.locator("#rules #week-view table.week").waitFor();
  await page.locator("#members table.members tbody tr[data-server]").first().waitFor();
  await page.locator("#server-hours table.hours").waitFor();
  await page.waitForTimeout(500);
  // Status, the chart, the actions, the Rules with the week view, the members and the server-hours.
  const bottom = await page.locator("#server-hours").evaluate((el) => Math.ceil(el.getBoundingClientRect().bottom + window.scrollY + 16));
  await page.screenshot({ path: OUT, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: bottom } });
  await page.goto(`${BASE}/#/policies/web-demo`);
  await page.locator("#retention tbody tr[data-image]").first().waitFor();
  await page.locator("#activity table").waitFor();
  await page.waitForTimeout(500);
  // The top of the page: status, selected servers, the retention preview (the activity log runs on below).
  await page.screenshot({ path: POLICY_OUT, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 2300 } });
  if (problems.length > 0) throw new Error(`the page reported problems: ${problems.join("; ")}`);
  console.log(`wrote ${OUT} and ${POLICY_OUT}`);
} finally {
  await browser.close();
}
