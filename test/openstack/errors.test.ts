// Error mapping: every fault shape OpenStack services answer with becomes one OpenStackError with the right category.
import { describe, expect, it } from "vitest";
import { categorize, OpenStackError, parseFault, parseRetryAfter } from "../../src/openstack/errors.ts";
import { Transport } from "../../src/openstack/http.ts";
import bookFaults from "../fixtures/book/nova-v1.1-faults.json";
import badImage from "../fixtures/real-zed/nova-create-bad-image.json";
import badFlavor from "../fixtures/real-zed/nova-create-bad-flavor.json";
import overQuota from "../fixtures/real-zed/nova-create-over-quota.json";
import missingServer from "../fixtures/real-zed/nova-get-missing-server.json";
import v2Gone from "../fixtures/real-zed/keystone-v2.0-token.json";
import { answer, replay } from "./support/replay.ts";

async function failWith(exchange: Parameters<typeof answer>[0]): Promise<OpenStackError> {
  const r = replay(answer(exchange));
  const transport = new Transport({ fetch: r.fetch, retry: { maxAttempts: 1 } });
  try {
    await transport.send({ method: exchange.request.method, url: exchange.request.url, service: "compute", retry: "never" });
  } catch (e) {
    if (e instanceof OpenStackError) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

describe("Nova faults (recorded from Zed)", () => {
  it("a 400 for an unknown image is a config error that keeps Nova's message and request id", async () => {
    const e = await failWith(badImage);
    expect(e).toMatchObject({ status: 400, kind: "badRequest", category: "config", detail: "Can not find requested image", requestId: "req-a2d99bab-c91f-4d55-b4e5-226767ef6f60" });
    expect(e.message).toContain("POST http://127.0.0.1:8774/v2.1/servers: 400 badRequest: Can not find requested image");
  });

  it("a 400 for an unknown flavor is a config error", async () => {
    expect(await failWith(badFlavor)).toMatchObject({ kind: "badRequest", category: "config", detail: "Flavor no-such-flavor could not be found." });
  });

  it("a 403 saying 'Quota exceeded' is a quota error, not an auth error", async () => {
    expect(await failWith(overQuota)).toMatchObject({ status: 403, kind: "forbidden", category: "quota" });
  });

  it("a 404 itemNotFound is notFound", async () => {
    expect(await failWith(missingServer)).toMatchObject({ status: 404, kind: "itemNotFound", category: "notFound" });
  });

  it("an HTML 404 page (Keystone v2.0 gone) is reduced to its text", async () => {
    const e = await failWith(v2Gone);
    expect(e.kind).toBe("itemNotFound");
    expect(e.detail).toBe("Not Found The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.");
  });
});

describe("book-era fault bodies", () => {
  it.each([
    ["missing name", "badRequest", "config", "Server name is an empty string"],
    ["missing or wrong imageRef", "badRequest", "config", "Cannot find requested image : Image 0 could not be found."],
    ["delete of a missing server or image", "itemNotFound", "notFound", "The resource could not be found."],
  ] as const)("%s -> %s (%s)", (name, kind, category, message) => {
    const fault = bookFaults[name];
    const parsed = parseFault(fault.status, JSON.stringify(fault.body));
    expect(parsed).toEqual({ kind, message });
    expect(categorize(fault.status, parsed.kind, parsed.message)).toBe(category);
  });

  it("a plain-text 401 is an auth error", () => {
    const fault = bookFaults["no or bad X-Auth-Token"];
    const parsed = parseFault(fault.status, fault.body);
    expect(parsed).toEqual({ kind: "unauthorized", message: "401 Unauthorized" });
    expect(categorize(401, parsed.kind, parsed.message)).toBe("auth");
  });

  it("a book-era overLimit body carries retryAfter", () => {
    const parsed = parseFault(413, JSON.stringify({ overLimit: { code: 413, message: "This request was rate-limited.", retryAfter: "59" } }));
    expect(parsed).toEqual({ kind: "overLimit", message: "This request was rate-limited.", retryAfterSeconds: 59 });
  });
});

describe("Keystone and Glance error shapes", () => {
  it("Keystone's {error: {title, message}} gives the title as kind", () => {
    const body = { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } };
    expect(parseFault(401, JSON.stringify(body))).toEqual({ kind: "unauthorized", message: "The request you have made requires authentication." });
  });

  it("Glance's text answer keeps its message", () => {
    expect(parseFault(404, "404 Not Found\n\nNo image found with ID abc\n\n    ")).toEqual({ kind: "itemNotFound", message: "404 Not Found No image found with ID abc" });
  });

  it("Glance's JSON answer (webob) loses its <br /> tags (as seen from Glance 25.1.0)", () => {
    const body = { message: "There was a conflict when trying to complete your request.<br /><br />\nProperty k1 does not exist.\n\n", code: "409 Conflict", title: "Conflict" };
    expect(parseFault(409, JSON.stringify(body))).toEqual({ kind: "conflict", message: "There was a conflict when trying to complete your request. Property k1 does not exist." });
  });

  it("an empty body still names the status", () => {
    expect(parseFault(503, "")).toEqual({ kind: "serviceUnavailable", message: "HTTP 503 with an empty body" });
  });
});

describe("categories", () => {
  it.each([
    [500, "computeFault", "", "transient"],
    [502, "httpError", "", "transient"],
    [503, "serviceUnavailable", "", "transient"],
    [409, "conflictingRequest", "Cannot 'delete' instance while it is in task_state image_snapshot", "transient"],
    [429, "overLimit", "", "transient"],
    [401, "unauthorized", "", "auth"],
    [403, "forbidden", "Policy doesn't allow os_compute_api:servers:create to be performed.", "auth"],
    [501, "notImplemented", "", "cloud"],
  ] as const)("status %i %s is %s", (status, kind, message, category) => {
    expect(categorize(status, kind, message)).toBe(category);
  });

  it("old Nova's quota error (413 with Retry-After: 0) is quota", () => {
    expect(categorize(413, "overLimit", "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances", 0)).toBe("quota");
  });

  it("too many metadata items (403 today, 413 'Quota exceeded for metadata items' in the book's era) is config: the request must change", () => {
    expect(categorize(403, "forbidden", "Maximum number of metadata items exceeds 5")).toBe("config");
    expect(categorize(413, "overLimit", "Quota exceeded for metadata items: Requested 6, but already used 0 of 5", 0)).toBe("config");
    expect(categorize(403, "forbidden", "Personality file limit exceeded")).toBe("config");
  });

  // Nova's QuotaError family (nova/exception.py), all answered with 403: capacity is "quota" (boot fewer), a per-request limit is "config".
  it.each([
    ["TooManyInstances", "Quota exceeded for cores: Requested 4, but already used 20 of 20 cores", "quota"],
    ["OverQuota", "Quota exceeded for resources: ['instances']", "quota"],
    ["QuotaError", "Quota exceeded: code=403", "quota"],
    ["PortLimitExceeded", "Maximum number of ports exceeded", "quota"],
    ["FixedIpLimitExceeded", "Maximum number of fixed IPs exceeded", "quota"],
    ["FloatingIpLimitExceeded", "Maximum number of floating IPs exceeded", "quota"],
    ["MetadataLimitExceeded", "Maximum number of metadata items exceeds 128", "config"],
    ["OnsetFileLimitExceeded", "Personality file limit exceeded", "config"],
    ["OnsetFilePathLimitExceeded", "Personality file path exceeds maximum 255", "config"],
    ["OnsetFileContentLimitExceeded", "Personality file content exceeds maximum 10240", "config"],
    ["KeypairLimitExceeded", "Maximum number of key pairs exceeded", "config"],
    ["SecurityGroupLimitExceeded", "Maximum number of security groups or rules exceeded", "config"],
    // Nova 25 (Yoga) on: the key pair limit moved into the exception with a "Quota exceeded" wording.
    ["KeypairLimitExceeded (Yoga+)", "Quota exceeded, too many key pairs.", "config"],
    ["ServerGroupLimitExceeded", "Quota exceeded, too many server groups.", "config"],
    ["GroupMemberLimitExceeded", "Quota exceeded, too many servers in group", "quota"],
    ["TooManyDiskDevices", "The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded.", "config"],
    ["ImageQuotaExceeded", "Quota exceeded or out of space for image 0f3c in the image service.", "quota"],
    // nova/network/neutron.py: the port count check before a multi-create, and Neutron's OverQuota passed through.
    ["PortLimitExceeded (port count)", "The number of defined ports: 12 is over the limit: 10", "quota"],
    ["FloatingIpLimitExceeded (Neutron's text)", "Quota exceeded for resources: ['floatingip'].", "quota"],
    // Unified limits (nova/limit/*.py): oslo.limit's ProjectOverLimit text, classified by the resource it names.
    ["TooManyInstances (unified limits)", "Project 6f70 is over a limit for [Resource servers is over limit of 10 due to current usage 10 and delta 1]", "quota"],
    ["TooManyInstances (unified limits, VCPU)", "Project 6f70 is over a limit for [Resource class:VCPU is over limit of 20 due to current usage 20 and delta 2]", "quota"],
    ["MetadataLimitExceeded (unified limits)", "Project 6f70 is over a limit for [Resource server_metadata_items is over limit of 128 due to current usage 0 and delta 130]", "config"],
    ["OnsetFileLimitExceeded (unified limits)", "Project 6f70 is over a limit for [Resource server_injected_files is over limit of 5 due to current usage 0 and delta 6]", "config"],
    ["KeypairLimitExceeded (unified limits)", "Project 6f70 is over a limit for [Resource server_key_pairs is over limit of 100 due to current usage 100 and delta 1]", "config"],
  ] as const)("Nova's 403 %s (%s) is %s", (_name, message, category) => {
    expect(categorize(403, "forbidden", message)).toBe(category);
  });

  // neutron_lib/exceptions: OverQuota is a Conflict (409), SubnetPoolQuotaExceeded its subclass.
  it.each([
    ["OverQuota (ports)", "Quota exceeded for resources: ['port'].", "quota"],
    ["OverQuota (several)", "Quota exceeded for resources: ['floatingip', 'port'].", "quota"],
    ["SubnetPoolQuotaExceeded", "Per-project subnet pool prefix quota exceeded.", "quota"],
  ] as const)("Neutron's 409 %s (%s) is %s, not a transient conflict", (_name, message, category) => {
    expect(categorize(409, "OverQuota", message)).toBe(category);
    expect(categorize(403, "forbidden", message)).toBe(category);
  });

  it("Neutron's own fault body names its type as the kind", () => {
    const fault = parseFault(409, JSON.stringify({ NeutronError: { type: "OverQuota", message: "Quota exceeded for resources: ['port'].", detail: "" } }));
    expect(fault).toEqual({ kind: "OverQuota", message: "Quota exceeded for resources: ['port']." });
  });

  it("a 409 that is not about quota stays transient", () => {
    expect(categorize(409, "conflictingRequest", "Instance is in task_state deleting")).toBe("transient");
  });

  it("a proxy's 413 without Retry-After (Request Entity Too Large) is not quota: the request is too big", () => {
    expect(categorize(413, "overLimit", "413 Request Entity Too Large nginx")).toBe("config");
  });

  it("a 413 rate limit with Retry-After: 0 is transient, not quota", () => {
    expect(categorize(413, "overLimit", "This request was rate-limited.", 0)).toBe("transient");
  });

  it("a 413 rate limit with a positive Retry-After is transient", () => {
    expect(categorize(413, "overLimit", "This request was rate-limited.", 30)).toBe("transient");
  });

  it("a network failure is transient", () => {
    expect(categorize(0, "network", "request failed")).toBe("transient");
  });
});

describe("Retry-After", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", 0)).toBe(120);
  });
  it("reads an HTTP date relative to now", () => {
    const now = Date.parse("2026-11-26T20:00:00Z");
    expect(parseRetryAfter("Thu, 26 Nov 2026 20:00:30 GMT", now)).toBe(30);
  });
  it("ignores garbage", () => {
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});

describe("no secrets in messages", () => {
  it("user info and token-like query parameters are removed from URLs", () => {
    const e = new OpenStackError({ method: "GET", url: "http://joe:shhh@nova.example/v2.1/servers?token=abc&name=x", status: 500, kind: "computeFault", message: "boom" });
    expect(e.message).not.toContain("shhh");
    expect(e.message).not.toContain("abc");
    expect(e.url).toBe("http://nova.example/v2.1/servers?token=***&name=x");
  });
});
