/**
 * The warning for two plugins that set the same global (docs/plugins.md, "Plugins"): all plugins
 * share one Lua state, as upstream's `require` loads them into one, so the two share one value.
 * The bridge's Lua half (src/lua/bridge.ts) notes who set each global, at load and in `process`,
 * and hands over each clash once as a line `plugin TAB global TAB other plugin`.
 */

/** One warning per pair of plugins in `text` (the bridge's clash lines), in order. */
export function globalClashWarnings(text: string): string[] {
  const byPair = new Map<string, { by: string; was: string; names: string[] }>();
  for (const line of text.split("\n")) {
    const [by, name, was] = line.split("\t");
    if (name === undefined || was === undefined) continue;
    const key = `${by}\t${was}`;
    const entry = byPair.get(key) ?? { by, was, names: [] };
    entry.names.push(name);
    byPair.set(key, entry);
  }
  return [...byPair.values()].map(({ by, was, names }) => {
    const which = names.length === 1 ? `the global ${names[0]}` : `the globals ${names.join(", ")}`;
    const it = names.length === 1 ? "it" : "them";
    return `${by}: sets ${which}, which ${was} sets too: all plugins share one Lua state, so ` +
      `the two plugins share one value; declare ${it} local (local ${names[0]} = …) ` +
      '(docs/plugins.md, "Plugins")';
  });
}
