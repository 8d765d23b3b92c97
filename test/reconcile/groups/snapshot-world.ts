// The fake cloud with the real OpenStack client over it (virtual clock, no real sleeping), for snapshot executor tests.
import { OpenStackSettingsSchema } from "../../../src/config/env.ts";
import { createComputeCloud } from "../../../src/openstack/compute-cloud.ts";
import { CloudGateway } from "../../../src/reconcile/gateway/gateway.ts";
import { FakeCloud, type FakeCloudOptions } from "../../fake-cloud/index.ts";

export function fakeClient(options: FakeCloudOptions = {}, authPath = "/identity/v3") {
  const fake = new FakeCloud({ startAt: "2026-11-01T00:00:00Z", snapshotMs: 10_000, ...options });
  const settings = OpenStackSettingsSchema.parse({
    OS_AUTH_URL: `http://fake.test${authPath}`,
    OS_USERNAME: "demo",
    OS_PASSWORD: "demo-password",
    OS_PROJECT_NAME: "demo",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
  });
  const client = createComputeCloud(settings, { fetch: fake.fetch, clock: () => fake.now(), sleep: async () => {} });
  const foreignImage = (name: string, properties: Record<string, string>) => addForeignImage(fake, name, properties);
  return { fake, client, cloud: new CloudGateway(client), foreignImage };
}

/** An image novascale did not make (an operator's own snapshot), or another owner's snapshot, 30 days old. */
export function addForeignImage(fake: FakeCloud, name: string, properties: Record<string, string>): string {
  const base = [...fake.images.values()].find((i) => i.name === "cirros")!;
  const image = { ...base, id: fake.rng.uuid(), numericId: fake.nextImageNumber++, name, visibility: "private" as const, properties, created: fake.now() - 86_400_000 * 30 };
  image.ownerProjectId = fake.projectByName("demo")!.id;
  fake.images.set(image.id, image);
  return image.id;
}
