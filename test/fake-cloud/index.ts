// The fake cloud's public surface for tests (workerd and Node alike): the emulator, its host, faults and options.
export { FakeCloud, routeTemplate } from "./cloud.ts";
export type { CloudStats, ImageSnapshot, RequestContext, SeedServerInput, ServerSnapshot } from "./cloud.ts";
export { FakeCloudHost } from "./host.ts";
export { FaultSpecSchema } from "./faults.ts";
export type { ActiveFault, FaultSpec, FaultSpecInput } from "./faults.ts";
export { FakeCloudOptionsSchema, MODERN_QUOTAS, BOOK_QUOTAS, SEED_FLAVORS, DEFAULT_USERS } from "./model.ts";
export type { FakeCloudOptions, Quotas } from "./model.ts";
export { FakeClock } from "./clock.ts";
