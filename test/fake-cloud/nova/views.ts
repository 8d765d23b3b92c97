// Fake Nova's JSON views of servers and flavors, in both eras' shapes.
import { isoMicros, isoSeconds } from "../clock.ts";
import type { FakeFlavor, FakeServer } from "../model.ts";
import { type Nova, hostId } from "./context.ts";

export function links(n: Nova, kind: string, id: string | number) {
  return [
    { rel: "self", href: `${n.selfBase}/${kind}/${id}` },
    { rel: "bookmark", href: `${n.bookmarkBase}/${kind}/${id}` },
  ];
}

export function addressesView(n: Nova, s: FakeServer) {
  const out: Record<string, unknown[]> = {};
  for (const a of s.addresses) {
    const entry = n.legacy ? { version: 4, addr: a.addr } : { version: 4, addr: a.addr, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": a.mac };
    (out[a.network] ??= []).push(entry);
  }
  return out;
}

export function flavorRefView(n: Nova, s: FakeServer) {
  const flavor = n.cloud.flavorById(s.flavorId);
  if (n.mv >= 47 && !n.legacy) {
    return { vcpus: flavor?.vcpus ?? 0, ram: flavor?.ram ?? 0, disk: flavor?.disk ?? 0, ephemeral: 0, swap: 0, original_name: flavor?.name ?? s.flavorId, extra_specs: {} };
  }
  return { id: s.flavorId, links: [{ rel: "bookmark", href: `${n.bookmarkBase}/flavors/${s.flavorId}` }] };
}

export function imageRefView(n: Nova, s: FakeServer) {
  const image = n.cloud.images.get(s.imageId);
  const id = n.legacy ? String(image?.numericId ?? s.imageId) : s.imageId;
  return { id, links: [{ rel: "bookmark", href: `${n.bookmarkBase}/images/${id}` }] };
}

export function legacyServerView(n: Nova, s: FakeServer) {
  return {
    status: s.status,
    updated: isoSeconds(s.updated),
    hostId: s.launchedAt === null ? "" : hostId(s.projectId),
    user_id: s.userId,
    name: s.name,
    links: links(n, "servers", s.numericId),
    created: isoSeconds(s.created),
    tenant_id: s.projectId,
    image: imageRefView(n, s),
    uuid: s.id,
    accessIPv4: s.accessIPv4,
    metadata: { ...s.metadata },
    accessIPv6: s.accessIPv6,
    key_name: s.keyName,
    progress: s.status === "ACTIVE" ? 100 : 0,
    flavor: flavorRefView(n, s),
    config_drive: "",
    id: s.numericId,
    // The book's create answer (BUILD) shows no addresses; its ACTIVE server shows public and private.
    addresses: s.launchedAt === null ? {} : addressesView(n, s),
  };
}

export function serverView(n: Nova, s: FakeServer, show: boolean): Record<string, unknown> {
  if (n.legacy) return legacyServerView(n, s);
  const v: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: { ...s.metadata },
    hostId: s.launchedAt === null ? "" : hostId(s.projectId),
    image: imageRefView(n, s),
    flavor: flavorRefView(n, s),
    created: isoSeconds(s.created),
    updated: isoSeconds(s.updated),
    addresses: addressesView(n, s),
    accessIPv4: s.accessIPv4,
    accessIPv6: s.accessIPv6,
    links: links(n, "servers", s.id),
    "OS-DCF:diskConfig": "MANUAL",
    progress: 0,
    "OS-EXT-AZ:availability_zone": s.launchedAt === null ? "" : s.availabilityZone,
    config_drive: "",
    key_name: s.keyName,
    "OS-SRV-USG:launched_at": s.launchedAt === null ? null : isoMicros(s.launchedAt),
    "OS-SRV-USG:terminated_at": null,
    "OS-EXT-STS:task_state": s.taskState,
    "OS-EXT-STS:vm_state": s.vmState,
    "OS-EXT-STS:power_state": s.powerState,
    "os-extended-volumes:volumes_attached": [],
  };
  if (s.addresses.length > 0) v.security_groups = [{ name: "default" }];
  // Real Nova's listing reads faults from the API's default cell only: a server buried in cell0 shows none there.
  if (s.fault !== null && (show || s.cell0 !== true)) v.fault = { code: s.fault.code, created: isoSeconds(s.fault.created), message: s.fault.message };
  if (n.mv >= 9) v.locked = s.locked;
  if (n.mv >= 73) v.locked_reason = null;
  if (n.mv >= 19) v.description = s.description;
  if (n.mv >= 26) v.tags = [...s.tags];
  if (n.mv >= 63) v.trusted_image_certificates = null;
  if (n.mv >= 90) v["OS-EXT-SRV-ATTR:hostname"] = s.hostname;
  if (n.mv >= 71 && show) v.server_groups = [];
  return v;
}

export function flavorView(n: Nova, f: FakeFlavor, detail: boolean): Record<string, unknown> {
  if (n.legacy) {
    const base = { id: Number(f.id), links: links(n, "flavors", f.id), name: f.name };
    return detail ? { ...base, ram: f.ram, disk: f.disk, vcpus: f.vcpus } : base;
  }
  const v: Record<string, unknown> = { id: f.id, name: f.name };
  if (detail) {
    Object.assign(v, { ram: f.ram, disk: f.disk, swap: n.mv >= 75 ? 0 : "", "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": false, vcpus: f.vcpus, "os-flavor-access:is_public": true, rxtx_factor: 1 });
  }
  v.links = links(n, "flavors", f.id);
  if (n.mv >= 55) v.description = null;
  if (detail && n.mv >= 61) v.extra_specs = {};
  return v;
}
