/** Command-line values of the bench and developer scripts. */

/** The value of `name` (e.g. `--hours`) given as `name=V` or `name V`; undefined when absent. */
export function argValue(name: string): string | undefined {
  const a = Deno.args.find((x) => x.startsWith(`${name}=`));
  if (a !== undefined) return a.slice(name.length + 1);
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** Every value of a repeatable `name` (`name=V` or `name V`), in order. */
export function argValues(name: string, args: readonly string[] = Deno.args): string[] {
  return args.flatMap((a, i) =>
    a.startsWith(`${name}=`)
      ? [a.slice(name.length + 1)]
      : a === name && i + 1 < args.length
      ? [args[i + 1]]
      : []
  );
}

/**
 * Environment variables from `K=V[,K=V]…` (e.g. one `--side-env` value): each pair split at its
 * first `=`, so a value may hold `=` and `:` (`GLIBC_TUNABLES=glibc.malloc.arena_max=1`), not `,`.
 * Throws on a pair without a name or `=`.
 */
export function envPairs(spec: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of spec.split(",").filter((p) => p !== "")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`not NAME=VALUE: ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/**
 * The usage a script's header comment gives: the text of its first `/** … *\/` block without the
 * leading ` * `, or undefined when it has none.
 */
export function headerUsage(source: string): string | undefined {
  const block = source.match(/\/\*\*([\s\S]*?)\*\//);
  if (block === null) return undefined;
  return block[1].split("\n").map((line) => line.replace(/^\s*\*( |$)/, "")).join("\n").trim();
}

/**
 * With `--help` or `-h` among `args`: prints the script's header comment (its usage) and exits 0,
 * so asking a bench or developer script for help never starts a run (several take minutes and the
 * testbed's network namespaces).
 */
export function exitOnHelp(scriptUrl: string, args: readonly string[] = Deno.args): void {
  if (!args.includes("--help") && !args.includes("-h")) return;
  console.log(headerUsage(Deno.readTextFileSync(new URL(scriptUrl))) ?? "(no usage written)");
  Deno.exit(0);
}
