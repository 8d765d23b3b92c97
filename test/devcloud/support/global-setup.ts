// Before and after the real-OpenStack tier: sweep whatever earlier or failed runs left behind (only names starting with TEST_PREFIX).
import { Devcloud, demoUser, TEST_PREFIX } from "./devcloud.ts";

export default async function setup() {
  const cloud = await Devcloud.login(demoUser(process.env));
  const before = await cloud.sweep();
  if (before.servers + before.images > 0) {
    console.log(`[devcloud] swept leftovers of an earlier run: ${before.servers} servers, ${before.images} images (${TEST_PREFIX}*)`);
  }
  return async () => {
    const after = await (await Devcloud.login(demoUser(process.env))).sweep();
    if (after.servers + after.images > 0) {
      console.log(`[devcloud] swept after the run: ${after.servers} servers, ${after.images} images the tests left (${TEST_PREFIX}*)`);
    }
  };
}
