// Types of build/zod.mjs: the same as zod's (only the deploy bundle uses that file; tsc resolves "zod" itself).
export * from "zod";
