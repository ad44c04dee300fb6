/**
 * Static import graph of the project's own sources, for the architecture tests
 * (docs/architecture.md: data flows one way, no circular imports).
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";

/** One module's relative imports, as repository-relative paths. */
export type ImportGraph = Map<string, string[]>;

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)"(\.\.?\/[^"]+)"/g;

/** Source files under `dir` (recursively), test files and testdata left out. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(root, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      if (entry.name !== "testdata" && entry.name !== "fixtures") {
        out.push(...sourceFiles(root, path));
      }
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      out.push(path);
    }
  }
  return out.sort();
}

/** The relative `.ts` imports (static, re-exports and literal dynamic ones) of each file. */
export function importGraph(root: string, files: string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const text = Deno.readTextFileSync(join(root, file));
    const targets = new Set<string>();
    for (const match of text.matchAll(SPECIFIER)) {
      if (!match[1].endsWith(".ts")) continue;
      targets.add(relative(root, resolve(root, dirname(file), match[1])));
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** The folder (stage) a file belongs to: `src/cli/mod.ts` → `src/cli`. */
export function stageOf(file: string): string {
  return dirname(file);
}

/** The graph collapsed to stages, self-edges dropped. */
export function stageGraph(graph: ImportGraph): ImportGraph {
  const stages = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = stageOf(file);
    const set = stages.get(from) ?? new Set<string>();
    stages.set(from, set);
    for (const target of targets) {
      const to = stageOf(target);
      if (to !== from) set.add(to);
    }
  }
  return new Map([...stages].map(([stage, set]) => [stage, [...set].sort()]));
}

/**
 * Every strongly connected component with more than one member (or a self-loop):
 * each is a set of modules that import each other in a circle. Tarjan's algorithm.
 */
export function cycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) {
        found.push(component.sort());
      }
    }
  };
  for (const node of [...graph.keys()].sort()) {
    if (!index.has(node)) visit(node);
  }
  return found;
}
