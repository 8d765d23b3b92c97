// End to end on the real cloud: a PUT's reference check against Zed's Nova and Glance (issue 28): a misspelled flavor is stored with a warning naming the real one; strict refuses it.
import { describe, expect, it } from "vitest";
import { testName } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const group = testName("refs");
const strictGroup = testName("refs-strict");
const e2e = useE2eWorker({ tokenName: "refs-admin", groups: () => [group, strictGroup] });
const { api } = e2e;

interface Warning {
  field: string;
  code: string;
  message: string;
}
interface Answer {
  warnings?: Warning[];
  error?: { code: string; message: string; details?: { warnings: Warning[] } };
}

const rules = (flavor: string) => ({ image: "cirros-fake", flavor, min: 0, max: 2, default: 0, networks: "none", namePrefix: group });

async function put(name: string, body: unknown, query = ""): Promise<{ status: number; body: Answer }> {
  const res = await api(`/v1/groups/${name}${query}`, { method: "PUT", body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Answer };
}

describe("PUT checks the rules' references against the real cloud", () => {
  it("stores a misspelled flavor (201) with a not-found warning that names m1.small; a correct one gets none", async () => {
    const res = await put(group, rules("m1.smal"));
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([{ field: "flavor", code: "not-found", message: expect.stringContaining('did you mean "m1.small"') }]);
    const fixed = await put(group, rules("m1.small"));
    expect([fixed.status, fixed.body.warnings]).toEqual([200, []]);
  });

  it("answers ?strict=true with 422 naming the flavor and stores nothing", async () => {
    const res = await put(strictGroup, rules("m1.smal"), "?strict=true");
    expect(res.status).toBe(422);
    expect(res.body.error?.details?.warnings).toEqual([expect.objectContaining({ field: "flavor", code: "not-found" })]);
    expect((await api(`/v1/groups/${strictGroup}`)).status).toBe(404);
  });

  it("warns about a key pair the demo user does not have (GET /os-keypairs/{name} on Zed)", async () => {
    const res = await put(group, { ...rules("m1.small"), keyName: `${group}-no-such-key` });
    expect(res.body.warnings).toEqual([expect.objectContaining({ field: "keyName", code: "not-found" })]);
  });
});
