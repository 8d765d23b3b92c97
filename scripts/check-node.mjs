// Guard: the project's tools need Node >= 22 (the pinned `node` devDependency provides 24 inside npm scripts).
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `novascale needs Node >= 22 but npm scripts run Node ${process.versions.node}.\n` +
      "Run `npm install` (not --ignore-scripts) so the pinned Node in node_modules/.bin is installed.",
  );
  process.exit(1);
}
