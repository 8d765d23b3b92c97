// What `zod` is in the Worker bundle (wrangler.toml [alias]): zod 4's classic API (its own export list,
// v4/classic/external.js) without `z.locales`. `import { z } from "zod"` makes a namespace object of all
// of zod, and zod's namespaces (`z`, `z.core`) carry every locale's messages: 364 KB of a 1.1 MB bundle
// that every cold isolate parses. English, the only locale novascale uses, is registered by zod's schemas
// themselves. tsc and the tests keep resolving the real "zod"; only the deploy bundle uses this file.
// Keep in step with node_modules/zod/v4/classic/external.js when zod is upgraded (a missing export
// fails test/worker/bundle-zod.test.ts).
import * as z from "./zod.mjs";
export * as core from "./zod-core.mjs";
export * from "../node_modules/zod/v4/classic/schemas.js";
export * from "../node_modules/zod/v4/classic/checks.js";
export * from "../node_modules/zod/v4/classic/errors.js";
export * from "../node_modules/zod/v4/classic/parse.js";
export * from "../node_modules/zod/v4/classic/compat.js";
export { globalRegistry, registry, config, memoizer, $output, $input, $brand, clone, regexes, treeifyError, prettifyError, formatError, flattenError, TimePrecision, util, NEVER, INVALID, toZod, compile, withParser, ZodCompileAsyncError, ZodCompileUnsupportedError, getDiscriminatedOption } from "../node_modules/zod/v4/core/index.js";
export { toJSONSchema } from "../node_modules/zod/v4/core/json-schema-processors.js";
export { fromJSONSchema } from "../node_modules/zod/v4/classic/from-json-schema.js";
export { deepPartial } from "../node_modules/zod/v4/classic/deep-partial.js";
export { input, output } from "../node_modules/zod/v4/classic/in-out.js";
export { ZodISODateTime, ZodISODate, ZodISOTime, ZodISODuration } from "../node_modules/zod/v4/classic/iso.js";
export * as iso from "../node_modules/zod/v4/classic/iso.js";
export * as coerce from "../node_modules/zod/v4/classic/coerce.js";
export { z, z as default };
