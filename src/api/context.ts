// Hono's typing for this app: the Worker's bindings and what middleware puts on the context.
import type { Env } from "../config/env.ts";
import type { Caller } from "./auth.ts";

export interface ApiEnv {
  Bindings: Env;
  Variables: {
    /** Set by bearerAuth on every /v1 route. */
    caller: Caller;
  };
}
