/** Command-line values of the bench scripts. */

/** The value of `name` (e.g. `--hours`) given as `name=V` or `name V`; undefined when absent. */
export function argValue(name: string): string | undefined {
  const a = Deno.args.find((x) => x.startsWith(`${name}=`));
  if (a !== undefined) return a.slice(name.length + 1);
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}
