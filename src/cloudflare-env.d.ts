// Ties `cloudflare:workers` env/exports typings to this Worker's Env and main module.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index.ts");
    durableNamespaces: "GroupCoordinator";
  }
  interface Env extends import("./config/env.ts").Env {}
}
