/**
 * V8 flags of the daemon, chosen by measurement (docs/install.md, "Memory"): the table there has
 * the RSS and CPU of every setting tried. One definition, used by `scripts/compile.ts` (baked
 * into the binary) and mirrored by the `daemon` task in deno.json (a test keeps them equal).
 */

/**
 * - `--max-semi-space-size=1`: V8's young generation grows to 2 × 16 MB semi-spaces by default;
 *   the daemon's per-tick garbage is tiny, so 1 MB semi-spaces cut the resident size by about
 *   28 MB at no measurable CPU cost (more, cheaper scavenges).
 * - `--max-opt=0`: JavaScript stays in V8's bytecode interpreter (no baseline or optimizing
 *   compiler; WebAssembly, i.e. the Lua engine, is compiled as before). A control tick is tens
 *   of microseconds of JavaScript, so optimizing it buys nothing measurable, while the compilers'
 *   code and output took about 5–6 MB of the daemon's resident size.
 * - `--liftoff-only`: WebAssembly (the Lua engine, only when Lua is configured) stays in V8's
 *   baseline compiler's code; its optimizing compiler would recompile the hot parts of the Lua
 *   VM while the daemon runs, which cost about 5 MB of the peak with a Lua plugin and no CPU
 *   measurable (docs/footprint.md, "Lua").
 * - `--wasm-wrapper-tiering-budget=2147483647` (the largest): calls between JavaScript and
 *   WebAssembly keep going through V8's generic wrapper instead of one compiled per signature
 *   after 1000 calls, which used the optimizing compiler too: about 2 MB less with Lua.
 * - `--expose-gc`: gives the daemon V8's `gc()`, with which it collects the whole heap every 600
 *   control ticks (src/daemon/heap_trim.ts). V8 itself collects the old generation only once it
 *   has grown 8 MB past what was live, and keeps the pages it grew: under load the daemon's peak
 *   RSS went from about 60 MB in a minute to 68 MB in half an hour without it (docs/footprint.md,
 *   "Long runs under load").
 */
export const DAEMON_V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=1",
  "--max-opt=0",
  "--liftoff-only",
  "--wasm-wrapper-tiering-budget=2147483647",
  "--expose-gc",
];

/** The flags as one `--v8-flags=` argument for deno. */
export function v8FlagsArg(flags: readonly string[] = DAEMON_V8_FLAGS): string {
  return `--v8-flags=${flags.join(",")}`;
}
