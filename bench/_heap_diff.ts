/**
 * What grew between two V8 heap snapshots (`.heapsnapshot`, as bench/_inspect_heap.ts writes
 * them): nodes grouped by type and name (an object's constructor, a closure's function name;
 * strings, code and arrays by type only), with the count and self size of each group in both and
 * the difference, largest growth first (docs/footprint.md, "The real daemon, 80 minutes").
 *
 *   deno run --allow-read bench/_heap_diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top 30]
 */

/** Count and self size (bytes) per group. */
export type HeapGroups = Map<string, { count: number; size: number }>;

/** Groups a parsed snapshot's nodes (see the file comment). */
export function groupNodes(snap: {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}): HeapGroups {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const out: HeapGroups = new Map();
  const byTypeOnly = new Set(["string", "concatenated string", "sliced string", "code", "number"]);
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]];
    // V8 names some nodes with their id (`system / Context / scope @1234`): grouped without it.
    const name = snap.strings[snap.nodes[i + iName]].replace(/ @\d+$/, "");
    const key = byTypeOnly.has(type) ? `(${type})` : `${type}:${name}`;
    const g = out.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += snap.nodes[i + iSize];
    out.set(key, g);
  }
  return out;
}

if (import.meta.main) {
  const [a, b] = Deno.args.filter((x) => !x.startsWith("--"));
  const topIdx = Deno.args.indexOf("--top");
  const top = topIdx >= 0 ? Number(Deno.args[topIdx + 1]) : 30;
  const ga = groupNodes(JSON.parse(await Deno.readTextFile(a)));
  const gb = groupNodes(JSON.parse(await Deno.readTextFile(b)));
  const sum = (g: HeapGroups) => [...g.values()].reduce((s, x) => s + x.size, 0);
  console.log(`total self size ${sum(ga)} -> ${sum(gb)} bytes (${sum(gb) - sum(ga)})`);
  const keys = new Set([...ga.keys(), ...gb.keys()]);
  const rows = [...keys].map((k) => {
    const x = ga.get(k) ?? { count: 0, size: 0 };
    const y = gb.get(k) ?? { count: 0, size: 0 };
    return { k, x, y, dSize: y.size - x.size, dCount: y.count - x.count };
  });
  rows.sort((p, q) => q.dSize - p.dSize);
  const show = (r: (typeof rows)[number]) =>
    console.log(
      `${String(r.dSize).padStart(9)} B ${String(r.dCount).padStart(7)} n  ` +
        `${r.x.count}→${r.y.count}  ${r.k.slice(0, 100)}`,
    );
  console.log("grew most:");
  rows.slice(0, top).forEach(show);
  console.log("shrank most:");
  rows.slice(-Math.min(10, rows.length)).reverse().forEach(show);
  console.log("count grew most:");
  [...rows].sort((p, q) => q.dCount - p.dCount).slice(0, top).forEach(show);
}
