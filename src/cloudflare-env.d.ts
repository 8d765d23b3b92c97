// Ties `cloudflare:workers` env/exports typings to this Worker's Env and main module.
// (An `extends` clause cannot name `import("...").Env` directly, and .d.ts errors are skipped: hence the alias.)
type NovascaleWorkerEnv = import("./config/env.ts").Env;
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index.ts");
    durableNamespaces: "GroupCoordinator" | "PolicyCoordinator";
  }
  interface Env extends NovascaleWorkerEnv {}
}
