// Fake Nova's server actions: power, reboot, rebuild, resize, shelve, password, createImage.
import type { FakeCloud } from "../cloud.ts";
import { empty, isRecord, json, novaError } from "../http.ts";
import type { FakeImage, FakeServer } from "../model.ts";
import { type Nova, UNEXPECTED, body, conflict, findFlavor, findImage, findServer, invalidInput, lastSegment, notFound, setState } from "./context.ts";
import { serverView } from "./views.ts";
import { parseAccessIPs } from "./addresses.ts";

export async function serverAction(n: Nova, [, id]: string[]): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  if (!isRecord(b)) return novaError(400, "Malformed request body");
  const [action] = Object.keys(b);
  const arg = action === undefined ? undefined : b[action];
  const cloud = n.cloud;
  const later = (status: string, vmState: string, task: string, done: () => void) => {
    setState(cloud, s, status, vmState, task, s.powerState);
    cloud.schedule(cloud.now() + cloud.options.actionMs, () => {
      if (cloud.servers.get(s.id) === s && s.taskState === task) done();
    });
    if (cloud.options.actionMs === 0) cloud.settle();
  };
  const active = s.vmState === "active" && s.taskState === null;
  const failing = action === undefined ? undefined : cloud.takeServerFault("actionFails", s.name);
  if (failing !== undefined && (failing.action === undefined || failing.action === action)) {
    return novaError(failing.status, failing.status >= 500 ? UNEXPECTED : `Injected ${action ?? ""} failure for ${s.id} (fake cloud).`);
  }
  switch (action) {
    case "reboot": {
      const type = isRecord(arg) && typeof arg.type === "string" ? arg.type.toUpperCase() : "";
      if (type !== "SOFT" && type !== "HARD") return invalidInput("type", isRecord(arg) ? arg.type : undefined, "is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']");
      if (!(active || (type === "HARD" && (s.vmState === "stopped" || s.vmState === "error")))) return conflict("reboot", s);
      later(type === "SOFT" ? "REBOOT" : "HARD_REBOOT", s.vmState, type === "SOFT" ? "reboot_started" : "reboot_started_hard", () => setState(cloud, s, "ACTIVE", "active", null, 1));
      return empty(202);
    }
    case "os-stop":
      if (!active && s.vmState !== "error") return conflict("stop", s);
      later(s.status, s.vmState, "powering-off", () => setState(cloud, s, "SHUTOFF", "stopped", null, 4));
      return empty(202);
    case "os-start": {
      if (s.vmState !== "stopped" || s.taskState !== null) return conflict("start", s);
      const fails = cloud.takeServerFault("resumeFails", s.name) !== undefined;
      later(s.status, s.vmState, "powering-on", () => (fails ? setState(cloud, s, "SHUTOFF", "stopped", null, 4) : setState(cloud, s, "ACTIVE", "active", null, 1)));
      return empty(202);
    }
    case "shelve":
      if (!(active || (s.taskState === null && ["stopped", "paused", "suspended"].includes(s.vmState)))) return conflict("shelve", s);
      later(s.status, s.vmState, "shelving", () => {
        setState(cloud, s, "SHELVED", "shelved", null, 4);
        scheduleOffload(cloud, s);
      });
      return empty(202);
    case "shelveOffload":
      if (s.vmState !== "shelved" || s.taskState !== null) return conflict("shelveOffload", s);
      later(s.status, s.vmState, "shelving_offloading", () => setState(cloud, s, "SHELVED_OFFLOADED", "shelved_offloaded", null, 0));
      return empty(202);
    case "unshelve": {
      if (!(s.vmState === "shelved" || s.vmState === "shelved_offloaded") || s.taskState !== null) return conflict("unshelve", s);
      if (arg !== null && !(isRecord(arg) && Object.keys(arg).every((k) => k === "availability_zone" || k === "host"))) {
        return invalidInput("unshelve", arg, "is not valid under any of the given schemas");
      }
      if (s.vmState === "shelved_offloaded") {
        // Unshelving an offloaded server takes its cores and RAM again: over quota it is refused (403).
        const flavor = cloud.flavorById(s.flavorId);
        const q = cloud.quotaOf(n.projectId);
        const used = cloud.usage(n.projectId);
        if (flavor !== undefined && q.cores >= 0 && used.cores + flavor.vcpus > q.cores) {
          return novaError(403, `Quota exceeded for cores: Requested ${flavor.vcpus}, but already used ${used.cores} of ${q.cores} cores`);
        }
        if (flavor !== undefined && q.ram >= 0 && used.ram + flavor.ram > q.ram) return novaError(403, `Quota exceeded for ram: Requested ${flavor.ram}, but already used ${used.ram} of ${q.ram} ram`);
      }
      const back = s.vmState;
      const fails = cloud.takeServerFault("resumeFails", s.name) !== undefined;
      later(s.status, s.vmState, "unshelving", () => {
        if (!fails) setState(cloud, s, "ACTIVE", "active", null, 1);
        else setState(cloud, s, back === "shelved" ? "SHELVED" : "SHELVED_OFFLOADED", back, null, back === "shelved" ? 4 : 0);
      });
      return empty(202);
    }
    case "rebuild": {
      if (!isRecord(arg) || typeof arg.imageRef !== "string") return invalidInput("rebuild", arg, "'imageRef' is a required property");
      const access = parseAccessIPs(arg);
      if (access instanceof Response) return access;
      if (!(active || s.vmState === "stopped" || s.vmState === "error")) return conflict("rebuild", s);
      const image = findImage(n, arg.imageRef);
      if (image === undefined) return novaError(400, n.legacy ? `Cannot find requested image : Image ${lastSegment(arg.imageRef)} could not be found.` : "Can not find requested image");
      if (typeof arg.name === "string" && arg.name.trim() !== "") s.name = arg.name;
      if (isRecord(arg.metadata)) s.metadata = Object.fromEntries(Object.entries(arg.metadata).map(([k, v]) => [k, String(v)]));
      s.imageId = image.id;
      Object.assign(s, access);
      if (typeof arg.adminPass === "string") s.adminPass = arg.adminPass;
      later("REBUILD", s.vmState, "rebuilding", () => setState(cloud, s, "ACTIVE", "active", null, 1));
      return json(202, { server: { ...serverView(n, s, true), adminPass: s.adminPass } });
    }
    case "resize": {
      if (!isRecord(arg) || (typeof arg.flavorRef !== "string" && typeof arg.flavorRef !== "number")) return invalidInput("resize", arg, "'flavorRef' is a required property");
      if (!(active || s.vmState === "stopped")) return conflict("resize", s);
      const flavor = findFlavor(n, String(arg.flavorRef));
      if (flavor === undefined) return novaError(400, `Unable to find flavor with ID ${String(arg.flavorRef)}`);
      if (flavor.id === s.flavorId) return novaError(400, "When resizing, instances must change flavor!");
      const old = cloud.flavorById(s.flavorId);
      const q = cloud.quotaOf(n.projectId);
      const used = cloud.usage(n.projectId);
      const extraCores = flavor.vcpus - (old?.vcpus ?? 0);
      const extraRam = flavor.ram - (old?.ram ?? 0);
      if (q.cores >= 0 && extraCores > 0 && used.cores + extraCores > q.cores) {
        return novaError(403, `Quota exceeded for cores: Requested ${extraCores}, but already used ${used.cores} of ${q.cores} cores`);
      }
      if (q.ram >= 0 && extraRam > 0 && used.ram + extraRam > q.ram) return novaError(403, `Quota exceeded for ram: Requested ${extraRam}, but already used ${used.ram} of ${q.ram} ram`);
      s.previousFlavorId = s.flavorId;
      s.flavorId = flavor.id;
      later("RESIZE", s.vmState, "resize_prep", () => setState(cloud, s, "VERIFY_RESIZE", "resized", null, 1));
      return empty(202);
    }
    case "confirmResize":
      if (s.vmState !== "resized" || s.taskState !== null) return conflict("confirmResize", s);
      s.previousFlavorId = null;
      setState(cloud, s, "ACTIVE", "active", null, 1);
      return empty(204);
    case "revertResize":
      if (s.vmState !== "resized" || s.taskState !== null) return conflict("revertResize", s);
      later("REVERT_RESIZE", "resized", "resize_reverting", () => {
        s.flavorId = s.previousFlavorId ?? s.flavorId;
        s.previousFlavorId = null;
        setState(cloud, s, "ACTIVE", "active", null, 1);
      });
      return empty(202);
    case "changePassword": {
      if (!isRecord(arg) || typeof arg.adminPass !== "string") return invalidInput("changePassword", arg, "'adminPass' is a required property");
      if (!active) return conflict("changePassword", s);
      s.adminPass = arg.adminPass;
      return empty(202);
    }
    case "lock":
      s.locked = true;
      return empty(202);
    case "unlock":
      s.locked = false;
      return empty(202);
    case "createImage":
      return createImage(n, s, arg);
    default:
      return novaError(400, `There is no such action: ${action ?? ""}`);
  }
}

/** After shelving: offload at once (shelvedOffloadMs 0, Nova's default), later, or never (-1). */
export function scheduleOffload(cloud: FakeCloud, s: FakeServer): void {
  const after = cloud.options.shelvedOffloadMs;
  if (after < 0) return;
  const offload = () => {
    if (cloud.servers.get(s.id) === s && s.vmState === "shelved" && s.taskState === null) setState(cloud, s, "SHELVED_OFFLOADED", "shelved_offloaded", null, 0);
  };
  if (after === 0) offload();
  else cloud.schedule(cloud.now() + after, offload);
}

/** Snapshot: image queued -> saving -> active (or killed by a fault); server task image_snapshot -> image_uploading -> none. */
export function createImage(n: Nova, s: FakeServer, arg: unknown): Response {
  if (!isRecord(arg) || typeof arg.name !== "string" || arg.name.trim() === "") return invalidInput("createImage", arg, "'name' is a required property");
  const metadata: Record<string, string> = {};
  if (arg.metadata !== undefined) {
    if (!isRecord(arg.metadata)) return invalidInput("metadata", arg.metadata, "is not of type 'object'");
    for (const [k, v] of Object.entries(arg.metadata)) metadata[k] = String(v);
  }
  const quota = n.cloud.quotaOf(n.projectId);
  if (quota.metadata_items >= 0 && Object.keys(metadata).length > quota.metadata_items) return novaError(403, "Image metadata limit exceeded");
  const allowed = (s.vmState === "active" || s.vmState === "stopped" || s.vmState === "paused" || s.vmState === "suspended") && s.taskState === null;
  if (!allowed) return conflict("createImage", s);
  const refused = n.cloud.takeServerFault("snapshotRefused", s.name);
  if (refused !== undefined) return refused.status === 409 ? conflict("createImage", s) : novaError(refused.status, `createImage of ${s.id} failed (injected fault)`);
  const cloud = n.cloud;
  const now = cloud.now();
  const user = cloud.users.get(n.token.userId);
  const base = cloud.images.get(s.imageId);
  const image: FakeImage = {
    id: cloud.rng.uuid(),
    numericId: cloud.nextImageNumber++,
    name: arg.name,
    status: "queued",
    visibility: "private",
    ownerProjectId: n.projectId,
    created: now,
    updated: now,
    properties: {
      base_image_ref: s.imageId,
      owner_user_name: user?.name ?? "",
      owner_project_name: cloud.projects.get(n.projectId)?.name ?? "",
      boot_roles: n.token.roles.join(","),
      instance_uuid: s.id,
      user_id: n.token.userId,
      image_type: "snapshot",
      owner_id: n.projectId,
      image_state: "available",
      image_location: "snapshot",
      ...metadata,
    },
    size: null,
    minDisk: cloud.flavorById(s.flavorId)?.disk ?? 0,
    minRam: base?.minRam ?? 0,
    diskFormat: base?.diskFormat ?? "qcow2",
    containerFormat: base?.containerFormat ?? "bare",
    protected: false,
    tags: [],
    checksum: null,
  };
  cloud.images.set(image.id, image);
  const killed = cloud.takeServerFault("snapshotKilled", s.name) !== undefined;
  const stuck = cloud.takeServerFault("snapshotStuck", s.name) !== undefined;
  setState(cloud, s, s.status, s.vmState, "image_snapshot", s.powerState);
  const total = cloud.options.snapshotMs;
  cloud.schedule(now + Math.floor(total / 3), () => {
    if (cloud.servers.get(s.id) === s && s.taskState === "image_snapshot") setState(cloud, s, s.status, s.vmState, "image_uploading", s.powerState);
    if (cloud.images.get(image.id) === image && image.status === "queued") {
      image.status = "saving";
      image.updated = cloud.now();
    }
  });
  cloud.schedule(now + total, () => {
    if (cloud.servers.get(s.id) === s && (s.taskState === "image_uploading" || s.taskState === "image_snapshot")) setState(cloud, s, s.status, s.vmState, null, s.powerState);
    if (cloud.images.get(image.id) !== image || image.status !== "saving" || stuck) return;
    image.status = killed ? "killed" : "active";
    image.updated = cloud.now();
    if (!killed) {
      image.size = 4608 + image.numericId;
      image.checksum = cloud.rng.hex(32);
    }
  });
  if (total === 0) cloud.settle();
  if (n.mv >= 45 && !n.legacy) return json(202, { image_id: image.id });
  // Before 2.45 the image's URL comes in Location and the body is empty.
  const location = n.legacy ? `${n.bookmarkBase}/images/${image.numericId}` : `${n.ctx.roots.image}/v2/images/${image.id}`;
  return empty(202, { Location: location });
}
