// Types for Vite's `?raw` imports (a file's text as a string), e.g. wrangler.toml in test/worker/deploy-config.test.ts.
declare module "*?raw" {
  const text: string;
  export default text;
}
