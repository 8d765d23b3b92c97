// Types for Vite's `?raw` imports (a file's text as a string), e.g. wrangler.toml in test/worker/deploy-config.test.ts.
declare module "*?raw" {
  const text: string;
  export default text;
}

// Vite's import.meta.glob (eager, `?raw`): a folder of vendored reference files as texts, keyed by path.
interface ImportMeta {
  glob<T = unknown>(pattern: string | string[], options?: { query?: string; import?: string; eager?: boolean }): Record<string, T>;
}
