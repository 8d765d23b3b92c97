// `npm run bench`: the benchmarks live in bench/node (TypeScript that Node 24 runs directly); see BENCHMARKS.md.
import "../bench/node/main.ts";
