/**
 * The link of the benchmarks that run the real daemon in the network-namespace testbed
 * (bench/footprint.ts, bench/remote.ts; docs/footprint.md): one TBF bottleneck and router shapers
 * at the link's rates, so their CPU figures are taken under the same load. The bench runner skips
 * files starting with `_`.
 */

/** The link's rates, kbit/s. */
export const BENCH_LINK = { downKbit: 20_000, upKbit: 10_000 };

/** The testbed's options (tests/e2e/testbed.ts) but for its directory and namespace prefix. */
export const BENCH_TESTBED = {
  shaper: "tbf",
  ispDownKbit: BENCH_LINK.downKbit,
  ispUpKbit: BENCH_LINK.upKbit,
  ispBufferMs: 100,
  routerBufferMs: 20,
  routerDownKbit: BENCH_LINK.downKbit,
  routerUpKbit: BENCH_LINK.upKbit,
} as const;
