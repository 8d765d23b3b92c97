// End to end on the real cloud: a user and project outside Default, given by domain IDs only, through an unversioned compute endpoint.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Devcloud, demoUser, testName, waitFor } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";
import { type DomainUser, ensureDomainUser } from "../support/identity.ts";

const GROUP_KEY = "novascale:group";
const group = testName("dom");
let identity: DomainUser;

const e2e = useE2eWorker({
  tokenName: "e2e-domains",
  groups: () => [group],
  identity: async () => {
    identity = await ensureDomainUser({ domain: "nstest-partners", project: "nstest-partner-app", user: "nstest-partner", password: "partner-devcloud-pw" });
    const demo = demoUser(process.env);
    return {
      // The tests' own view logs in by names; the Worker gets ids only (no domain name anywhere).
      user: { authUrl: demo.authUrl, username: identity.username, password: identity.password, projectName: identity.projectName, userDomainName: identity.domainName, projectDomainName: identity.domainName },
      vars: {
        OS_USER_DOMAIN_NAME: "",
        OS_PROJECT_DOMAIN_NAME: "",
        OS_USER_DOMAIN_ID: identity.domainId,
        OS_PROJECT_DOMAIN_ID: identity.domainId,
        // The service root, unversioned: discovery must pick /v2.1 and every call must go there.
        OS_ENDPOINT_OVERRIDES: JSON.stringify({ compute: "http://127.0.0.1:8774/" }),
      },
    };
  },
});

async function serviceLog(name: string): Promise<string> {
  return readFile(join(process.env.DEVCLOUD_DIR ?? "/tmp/devcloud", "log", name), "utf8");
}

describe("a project in another domain, by domain ids, through the unversioned compute root", () => {
  it("boots into that project; every call of the tick carries one request id that Nova and Glance log", async () => {
    expect(identity.domainId).not.toBe("default");
    const put = await e2e.api(`/v1/groups/${group}`, {
      method: "PUT",
      body: JSON.stringify({ image: "cirros-fake", flavor: "m1.tiny", min: 0, max: 2, default: 1, networks: "none", namePrefix: group }),
    });
    expect(put.status, await put.clone().text()).toBe(201);

    const record = (await e2e.apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" })) as {
      tickRequestId?: string;
      errors: unknown[];
      results: Array<{ outcome: string; step: { kind: string } }>;
    };
    expect(record.errors, JSON.stringify(record.errors)).toEqual([]);
    expect(record.results.map((r) => [r.step.kind, r.outcome])).toEqual([["boot", "done"]]);
    expect(record.tickRequestId).toMatch(/^req-[0-9a-f-]{36}$/);

    // The server is in the partner project (the test's own view is logged in there), not in demo's.
    const [server] = await waitFor("one ACTIVE member in the partner project", async () => {
      const now = await e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);
      return now.length === 1 && now[0]!.status === "ACTIVE" ? now : undefined;
    });
    expect(e2e.cloud.projectId).toBe(identity.projectId);
    expect(server!.tenant_id).toBe(identity.projectId);
    const demo = await Devcloud.login(demoUser(process.env));
    expect(await demo.serversWithMetadata(GROUP_KEY, group)).toEqual([]);

    // One id per tick finds the tick in the services' own logs (oslo logs it as the global request id).
    const id = record.tickRequestId!;
    await waitFor(`${id} in nova-api.log`, async () => ((await serviceLog("nova-api.log")).includes(id) ? true : undefined), 10_000);
    // Nova's request log: "[<global id> <Nova's own id> user project ...] 127.0.0.1 "POST /v2.1/servers" status: 202".
    // (Nova's root "/" runs without a request context, so discovery's own line cannot be told by id.)
    const novaCalls = (await serviceLog("nova-api.log"))
      .split("\n")
      .filter((l) => l.includes(`[${id} `) && l.includes("nova.api.openstack.requestlog"))
      .map((l) => /"(\w+ \S+)" status: (\d+)/.exec(l)?.slice(1).join(" "));
    expect(novaCalls).toContain("POST /v2.1/servers 202");
    // Through the unversioned root, every call but discovery's "GET /" went under /v2.1 (none to /servers, /limits at the root).
    expect(novaCalls.filter((c) => c !== undefined && !/^GET \/ /.test(c) && !/^\w+ \/v2\.1\//.test(c))).toEqual([]);
    expect((await serviceLog("glance-api.log")).includes(id)).toBe(true);
  });
});
