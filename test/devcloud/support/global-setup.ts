// Before and after the real-OpenStack tier: sweep whatever earlier or failed runs left behind (only names starting with TEST_PREFIX).
import { Devcloud, demoBUser, demoUser, TEST_PREFIX } from "./devcloud.ts";

/** The second project's leftovers too (e2e/clouds.test.ts boots there); a devcloud made before it existed has none. */
async function sweepDemoB(): Promise<{ servers: number; images: number }> {
  let cloud: Devcloud;
  try {
    cloud = await Devcloud.login(demoBUser(process.env));
  } catch {
    return { servers: 0, images: 0 };
  }
  return cloud.sweep();
}

export default async function setup() {
  const cloud = await Devcloud.login(demoUser(process.env));
  const before = await cloud.sweep();
  const beforeB = await sweepDemoB();
  before.servers += beforeB.servers;
  before.images += beforeB.images;
  if (before.servers + before.images > 0) {
    console.log(`[devcloud] swept leftovers of an earlier run: ${before.servers} servers, ${before.images} images (${TEST_PREFIX}*)`);
  }
  return async () => {
    const after = await (await Devcloud.login(demoUser(process.env))).sweep();
    const afterB = await sweepDemoB();
    after.servers += afterB.servers;
    after.images += afterB.images;
    if (after.servers + after.images > 0) {
      console.log(`[devcloud] swept after the run: ${after.servers} servers, ${after.images} images the tests left (${TEST_PREFIX}*)`);
    }
  };
}
