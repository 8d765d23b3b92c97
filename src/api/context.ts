// Hono's typing for this app: the Worker's bindings and what middleware puts on the context (the caller).
import type { Env } from "../config/env.ts";

export const ROLES = ["read", "operate", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the token's name (recorded as author) and its role. Never the token itself. */
export interface Caller {
  name: string;
  role: Role;
}

export interface ApiEnv {
  Bindings: Env;
  Variables: {
    /** Set by bearerAuth on every /v1 route. */
    caller: Caller;
  };
}
