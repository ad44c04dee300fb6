import { assert, assertEquals } from "../../src/util/assert.ts";
import { cycles, importGraph, sourceFiles, stageGraph, stageOf } from "./import_graph.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const graph = importGraph(ROOT, [...sourceFiles(ROOT, "src"), "main.ts"]);
const stages = stageGraph(graph);

Deno.test("cycle finder reports a circle of stages and ignores a chain", () => {
  const circle = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assertEquals(cycles(circle), [["a", "b", "c"]]);
  assertEquals(cycles(new Map([["a", ["b"]], ["b", []]])), []);
  assertEquals(cycles(new Map([["a", ["a"]]])), [["a"]]);
});

Deno.test("the graph sees re-exports and multi-line imports", () => {
  assert(graph.get("main.ts")!.includes("src/cli/mod.ts"));
  assert(graph.get("src/control/loop.ts")!.includes("src/control/ports.ts"));
});

Deno.test("no source file imports itself in a circle", () => {
  assertEquals(cycles(graph), []);
});

Deno.test("no two stages (src/ folders) import each other, directly or around a circle", () => {
  assertEquals(cycles(stages), []);
});

Deno.test("the control core imports only config, log and util: adapters implement its ports", () => {
  const allowed = new Set(["src/config", "src/log", "src/util"]);
  assertEquals(stages.get("src/control")!.filter((s) => !allowed.has(s)), []);
});

Deno.test("only the stages that assemble a daemon import the control loop; adapters its ports", () => {
  // An adapter that needs something of the loop's (SHAPER_REFRESH_S) finds it in ports.ts.
  const loop = new Set(["src/control/loop.ts", "src/control/driver.ts"]);
  const assemble = new Set(["src/control", "src/daemon", "src/sim"]);
  const importers = [...graph].filter(([file, targets]) =>
    !assemble.has(stageOf(file)) && targets.some((t) => loop.has(t))
  ).map(([file]) => file);
  assertEquals(importers, []);
});

Deno.test("measure/mod.ts exports only the measure stage", () => {
  const text = Deno.readTextFileSync(`${ROOT}src/measure/mod.ts`);
  const reexports = [...text.matchAll(/^export (?:type )?(?:\*|\{[^}]*\}) from "([^"]+)"/gm)];
  assertEquals(reexports.filter((m) => !m[1].startsWith("./")).map((m) => m[1]), []);
});

Deno.test("every src/*/mod.ts is imported by something", () => {
  const importedByOthers = new Set<string>();
  const all = importGraph(ROOT, [
    ...sourceFiles(ROOT, "src"),
    ...sourceFiles(ROOT, "tests"),
    ...sourceFiles(ROOT, "bench"),
    "main.ts",
  ]);
  for (const [file, targets] of all) {
    for (const t of targets) if (t !== file) importedByOthers.add(t);
  }
  const unused = [...graph.keys()].filter((f) => f.endsWith("/mod.ts") && !importedByOthers.has(f));
  assertEquals(unused, []);
});
