// Builds the dashboard into dashboard/dist (the Worker's static assets): bundled TypeScript and CSS (uPlot included), HTML, and _headers with the CSP.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = join(HERE, "src");
const OUT = join(HERE, "dist");

/**
 * Everything comes from this origin: no inline script or style, no CDN, no frames, no plugins. uPlot sizes
 * its elements through the CSSOM (element.style), which style-src does not govern.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const HEADERS = `/*
  Content-Security-Policy: ${CSP}
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  X-Frame-Options: DENY
  Permissions-Policy: camera=(), microphone=(), geolocation=()
`;

const started = Date.now();
// Only what this build writes goes; dist/.assetsignore (committed, so the directory always exists) stays.
for (const name of ["index.html", "app.js", "app.css", "favicon.svg", "_headers", "app.js.map"]) rmSync(join(OUT, name), { force: true });
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: { app: join(SRC, "main.ts"), "app-style": join(SRC, "style.css") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  outdir: OUT,
  entryNames: "[name]",
  legalComments: "eof",
  logLevel: "warning",
});
// esbuild names the CSS entry after its key; the page links app.css.
renameSync(join(OUT, "app-style.css"), join(OUT, "app.css"));
copyFileSync(join(SRC, "index.html"), join(OUT, "index.html"));
copyFileSync(join(SRC, "favicon.svg"), join(OUT, "favicon.svg"));
writeFileSync(join(OUT, "_headers"), HEADERS);
if (process.argv.includes("--verbose")) console.log(`dashboard built into ${OUT} in ${Date.now() - started} ms`);
