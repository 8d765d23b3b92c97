// Injectable failures in the spirit of Rackspace's mimic: what can go wrong, and when a fault applies.
import { z } from "zod";

const Times = z.number().int().positive().optional();

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** A regular expression, rejected up front when it does not compile (not at the first request). */
export const PatternSchema = z.string().refine(compiles, { message: "not a valid regular expression" });
/** Regular expression matched (search) against the server name. */
const ServerName = PatternSchema.optional();
const Service = z.enum(["identity", "compute", "image"]);
const RequestMatch = {
  service: Service.optional(),
  method: z.string().optional(),
  /** Regular expression searched in the path below the service prefix, e.g. "/servers". */
  path: PatternSchema.optional(),
};

export const FaultSpecSchema = z.discriminatedUnion("kind", [
  /** POST /servers answers `status` and creates nothing. */
  z.object({ kind: z.literal("bootError"), status: z.number().int().min(400).max(599), message: z.string().optional(), times: Times, serverName: ServerName }).strict(),
  /** POST /servers answers 500 but the server is created anyway (a false negative). */
  z.object({ kind: z.literal("bootFalseNegative"), status: z.number().int().min(500).max(599).default(500), times: Times, serverName: ServerName }).strict(),
  /**
   * POST /servers creates the server(s) but answers `status` (default 504, a load balancer's plain-text
   * timeout page), and the servers show in listings and GETs only `delayMs` later (virtual clock): a slow
   * cloud whose boot answer was lost.
   */
  z.object({
    kind: z.literal("lateRegistration"),
    delayMs: z.number().int().min(0).max(3_600_000),
    status: z.number().int().min(500).max(599).default(504),
    times: Times,
    serverName: ServerName,
  }).strict(),
  /** The server never leaves BUILD. */
  z.object({ kind: z.literal("stuckBuild"), times: Times, serverName: ServerName }).strict(),
  /**
   * The scheduler finds no host (a flavor bigger than any hypervisor): the server goes ERROR with the fault
   * "No valid host was found. ", and, as on a real Zed, is buried in cell0, whose faults `/servers/detail`
   * does not show (its fault lookup reads the API's default cell only): only GET /servers/{id} has the fault.
   */
  z.object({ kind: z.literal("noValidHost"), times: Times, serverName: ServerName }).strict(),
  /** Servers booted from image `imageId` (a broken image) go from BUILD to ERROR instead of ACTIVE. */
  z.object({ kind: z.literal("imageBootsError"), imageId: z.string().min(1), times: Times }).strict(),
  /** The server goes ACTIVE, then ERROR `afterMs` later. */
  z.object({ kind: z.literal("errorAfterActive"), afterMs: z.number().int().min(0), times: Times, serverName: ServerName }).strict(),
  /** DELETE /servers/{id} answers `status` (default 500), `times` times. */
  z.object({ kind: z.literal("deleteFails"), times: z.number().int().positive(), status: z.number().int().min(400).max(599).default(500), serverName: ServerName }).strict(),
  /** A share `rate` of matching requests answers one of `statuses` (seeded, so runs repeat). 413/429 carry Retry-After. */
  z.object({
    kind: z.literal("randomErrors"),
    rate: z.number().min(0).max(1),
    statuses: z.array(z.number().int().min(400).max(599)).min(1).default([500]),
    retryAfterSeconds: z.number().int().min(0).default(1),
    seed: z.number().int().optional(),
    times: Times,
    ...RequestMatch,
  }).strict(),
  /** Matching requests answer `delayMs` late (real time). */
  z.object({ kind: z.literal("slow"), delayMs: z.number().int().min(0).max(60_000), times: Times, ...RequestMatch }).strict(),
  /** Every token issued so far stops working after `afterRequests` more API requests (0: now). */
  z.object({ kind: z.literal("revokeTokens"), afterRequests: z.number().int().min(0).default(0) }).strict(),
  /** A parking action (shelve, shelveOffload, unshelve, os-stop, os-start) answers `status` and changes nothing. */
  z.object({
    kind: z.literal("actionFails"),
    action: z.enum(["shelve", "shelveOffload", "unshelve", "os-stop", "os-start"]).optional(),
    status: z.number().int().min(400).max(599).default(500),
    times: Times,
    serverName: ServerName,
  }).strict(),
  /** unshelve / os-start is accepted, but the server falls back to SHELVED_OFFLOADED / SHUTOFF (no valid host). */
  z.object({ kind: z.literal("resumeFails"), times: Times, serverName: ServerName }).strict(),
  /** createImage's image ends `killed` instead of `active`. */
  z.object({ kind: z.literal("snapshotKilled"), times: Times, serverName: ServerName }).strict(),
  /** createImage's image stays `saving` for ever (an upload that never finishes); the server's task clears as usual. */
  z.object({ kind: z.literal("snapshotStuck"), times: Times, serverName: ServerName }).strict(),
  /** createImage answers `status` (default 409) and creates nothing: Nova refusing outright. */
  z.object({ kind: z.literal("snapshotRefused"), status: z.number().int().min(400).max(599).default(409), times: Times, serverName: ServerName }).strict(),
]);

export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
export type FaultSpec = z.output<typeof FaultSpecSchema>;
export type FaultKind = FaultSpec["kind"];
export type ServiceName = z.infer<typeof Service>;

export interface ActiveFault {
  id: string;
  spec: FaultSpec;
  /** How many times it has fired. */
  fired: number;
}

export function isExhausted(fault: ActiveFault): boolean {
  const times = "times" in fault.spec ? fault.spec.times : undefined;
  return times !== undefined && fault.fired >= times;
}

export function matchesServerName(spec: FaultSpec, name: string): boolean {
  if (!("serverName" in spec) || spec.serverName === undefined) return true;
  return new RegExp(spec.serverName).test(name);
}

export function matchesRequest(spec: FaultSpec, service: ServiceName, method: string, path: string): boolean {
  if (spec.kind !== "randomErrors" && spec.kind !== "slow") return false;
  if (spec.service !== undefined && spec.service !== service) return false;
  if (spec.method !== undefined && spec.method.toUpperCase() !== method) return false;
  if (spec.path !== undefined && !new RegExp(spec.path).test(path)) return false;
  return true;
}
