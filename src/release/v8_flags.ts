/**
 * V8 flags of the daemon, chosen by measurement (docs/install.md, "Memory"): the table there has
 * the RSS and CPU of every setting tried. One definition, used by `scripts/compile.ts` (baked
 * into the binary) and mirrored by the `daemon` task in deno.json (a test keeps them equal).
 */

/**
 * `--max-semi-space-size=1`: V8's young generation grows to 2 × 16 MB semi-spaces by default; the
 * daemon's per-tick garbage is tiny, so 1 MB semi-spaces cut the resident size by about 28 MB at
 * no measurable CPU cost (more, cheaper scavenges).
 */
export const DAEMON_V8_FLAGS: readonly string[] = ["--max-semi-space-size=1"];

/** The flags as one `--v8-flags=` argument for deno. */
export function v8FlagsArg(flags: readonly string[] = DAEMON_V8_FLAGS): string {
  return `--v8-flags=${flags.join(",")}`;
}
