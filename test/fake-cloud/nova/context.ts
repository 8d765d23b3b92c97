// Fake Nova's shared vocabulary: one request's context, handler type, lookups, error bodies and state changes.
import type { FakeCloud, RequestContext } from "../cloud.ts";
import { INVALID_JSON, isRecord, novaError, readJson } from "../http.ts";
import type { FakeFlavor, FakeImage, FakeServer, FakeToken } from "../model.ts";

export const MIN_MINOR = 1;
export const INSTANCE_NOT_FOUND = (id: string) => `Instance ${id} could not be found.`;
/** The book-era Nova said less (samples/book/nova-v1.1-faults.json). */
export const BOOK_NOT_FOUND = "The resource could not be found.";
export const UNEXPECTED = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'oslo_messaging.exceptions.MessagingTimeout'>";

/** One compute request after auth and version negotiation. */
export interface Nova {
  cloud: FakeCloud;
  ctx: RequestContext;
  token: FakeToken;
  projectId: string;
  /** Microversion minor number (2.minor); 1 for the v2 and v1.1 paths. */
  mv: number;
  /** The book's v1.1 API: numeric ids, project in the URL, full server body on create. */
  legacy: boolean;
  /** e.g. http://host/compute/v2.1 or http://host/compute/v1.1/<project> */
  selfBase: string;
  /** e.g. http://host/compute or http://host/compute/<project> */
  bookmarkBase: string;
  isAdmin: boolean;
}

export type Handler = (n: Nova, segments: string[]) => Promise<Response> | Response;

// ---- lookups -----------------------------------------------------------------------------------

/** A ref may be an id, a numeric id (book) or a URL ending in either. */
export function lastSegment(ref: string): string {
  const trimmed = ref.replace(/\/+$/, "");
  return trimmed.includes("/") ? (trimmed.split("/").pop() ?? "") : trimmed;
}

/** False while a late-registering server is not shown by the API yet (it exists all the same). */
export function registered(n: Nova, s: FakeServer): boolean {
  return s.listedFrom === undefined || n.cloud.now() >= s.listedFrom;
}

export function findServer(n: Nova, id: string): FakeServer | undefined {
  for (const s of n.cloud.servers.values()) {
    if ((s.projectId !== n.projectId && !n.isAdmin) || !registered(n, s)) continue;
    if (s.id === id || (n.legacy && String(s.numericId) === id)) return s;
  }
  return undefined;
}

export function visibleImage(n: Nova, image: FakeImage): boolean {
  return image.visibility === "public" || image.visibility === "community" || image.ownerProjectId === n.projectId || n.isAdmin;
}

export function findImage(n: Nova, ref: string): FakeImage | undefined {
  const id = lastSegment(ref);
  for (const image of n.cloud.images.values()) {
    if (!visibleImage(n, image)) continue;
    if (image.id === id || ((n.legacy || /^\d+$/.test(id)) && String(image.numericId) === id)) return image;
  }
  return undefined;
}

export function findFlavor(n: Nova, ref: string): FakeFlavor | undefined {
  return n.cloud.flavorById(lastSegment(ref));
}

export async function body(n: Nova): Promise<unknown> {
  const parsed = await readJson(n.ctx.request);
  return parsed === INVALID_JSON ? undefined : parsed;
}

/** Python's repr of a JSON value, as Nova's jsonschema errors print request bodies. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (isRecord(value)) return `{${Object.entries(value).map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(", ")}}`;
  return String(value);
}

export function invalidInput(field: string, value: unknown, reason: string): Response {
  return novaError(400, `Invalid input for field/attribute ${field}. Value: ${pyRepr(value)}. ${reason}`);
}

export function notFound(n: Nova, id: string | undefined): Response {
  return novaError(404, n.legacy ? BOOK_NOT_FOUND : INSTANCE_NOT_FOUND(id ?? ""));
}

export function conflict(action: string, s: FakeServer): Response {
  if (s.taskState !== null) return novaError(409, `Cannot '${action}' instance ${s.id} while it is in task_state ${s.taskState}`);
  return novaError(409, `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
}

export function setState(cloud: FakeCloud, s: FakeServer, status: string, vmState: string, taskState: string | null, powerState: number): void {
  s.status = status;
  s.vmState = vmState;
  s.taskState = taskState;
  s.powerState = powerState;
  s.updated = cloud.now();
}

/** A stable host id per project, like Nova's sha224(project + host). */
export function hostId(projectId: string): string {
  let h = 0x811c9dc5;
  let out = "";
  for (let round = 0; out.length < 56; round++) {
    for (const ch of `${projectId}:compute-1:${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 56);
}
