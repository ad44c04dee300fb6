/**
 * What the daemon loads when no Lua is configured: no `node:` module (Deno's Node compatibility
 * layer costs several MB of resident memory, docs/footprint.md) and no npm package beyond zod.
 * Checked twice: on the source graph (`deno info`, static imports from main.ts; the Lua
 * engine is imported dynamically) and on the bundle users run (src/release/bundle.ts), where the
 * bundler hoists every `node:` import of a module to the top of the chunk that carries it, and
 * where the modules imported on first use (the Lua engine and its payloads, the observability
 * listener with uPlot, the MQTT publisher) must stay out of what the main module loads.
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import {
  bundleFiles,
  bundleProgram,
  loadedWithEntry,
  staticImports,
} from "../../src/release/bundle.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** npm packages the daemon may load without Lua. */
const NPM_ALLOWED = ["zod"];

interface InfoDependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  kind: string;
  npmPackage?: string;
  dependencies?: InfoDependency[];
}

async function denoInfo(entry: string): Promise<InfoModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${ROOT}deno.json`, `${ROOT}${entry}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
}

/** Modules reached from `root` by static code imports, each with the chain that reaches it. */
function staticReach(modules: InfoModule[], root: string): Map<string, string[]> {
  const bySpecifier = new Map(modules.map((m) => [m.specifier, m]));
  const reached = new Map<string, string[]>([[root, [root]]]);
  const queue = [root];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const dep of bySpecifier.get(from)?.dependencies ?? []) {
      const to = dep.code?.specifier;
      if (to === undefined || dep.isDynamic || reached.has(to)) continue;
      reached.set(to, [...reached.get(from)!, to]);
      queue.push(to);
    }
  }
  return reached;
}

function packageName(m: InfoModule): string {
  const id = m.npmPackage ?? "";
  return id.slice(0, id.lastIndexOf("@"));
}

const short = (chain: string[]) => chain.map((s) => s.replace(`file://${ROOT}`, "")).join(" → ");

Deno.test("daemon graph: main.ts reaches no node: module and no npm package but zod statically", async () => {
  const modules = await denoInfo("main.ts");
  const root = `file://${ROOT}main.ts`;
  const reached = staticReach(modules, root);
  const bySpecifier = new Map(modules.map((m) => [m.specifier, m]));
  // The walk can fail: the daemon's modules are in it, and the Lua engine is left out only
  // because it is imported dynamically.
  for (const file of ["src/cli/run_command.ts", "src/daemon/mod.ts", "src/lua/load.ts"]) {
    assert(reached.has(`file://${ROOT}${file}`), `${file} not reached`);
  }
  assert(!reached.has(`file://${ROOT}src/lua/engine.ts`), "the Lua engine is imported statically");
  // npm packages are seen (zod is reached), and wasmoon, in the graph by type only, is not.
  const reachedPackages = [...reached.keys()].flatMap((s) => {
    const m = bySpecifier.get(s);
    return m?.kind === "npm" ? [packageName(m)] : [];
  });
  assert(reachedPackages.includes("zod"), `npm packages reached: ${reachedPackages}`);
  assert(modules.some((m) => m.kind === "npm" && packageName(m) === "wasmoon"), "no wasmoon");
  assert(!reachedPackages.includes("wasmoon"), "wasmoon is reached");
  const offending = [...reached].filter(([specifier]) => {
    const m = bySpecifier.get(specifier);
    if (specifier.startsWith("node:")) return true;
    return m?.kind === "npm" && !NPM_ALLOWED.includes(packageName(m));
  });
  assertEquals(offending.map(([, chain]) => short(chain)), []);
});

/**
 * Modules the daemon imports on first use, each a chunk of its own named after it (esbuild names
 * the chunk of a dynamic import after its module), with what it carries.
 */
const ON_FIRST_USE = new Map([
  ["glue_wasm", "the Lua engine's wasm"],
  ["wasmoon_bundle", "wasmoon"],
  ["worker_bundle", "the Lua worker's script"],
  ["mod", "the Lua engine (src/lua/mod.ts)"],
  ["http_server", "the observability listener and uPlot"],
  ["mqtt_publisher", "the MQTT publisher"],
]);

Deno.test("daemon graph: the bundle's main module loads no node: module, no CommonJS and no module used on first use", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-graph-" });
  try {
    const entry = await bundleProgram({ entry: `${ROOT}main.ts`, outdir: dir });
    const files = bundleFiles(dir);
    const text = new Map(files.map((f) => [f, Deno.readTextFileSync(`${dir}/${f}`)]));
    // What loads with the main module: its static imports, transitively.
    const loaded = new Set(loadedWithEntry(dir, entry.slice(dir.length + 1)));
    // Static `node:` imports only; `import("node:…")` is dynamic and loads nothing until it runs.
    const nodeImports = [...loaded].flatMap((f) =>
      staticImports(text.get(f)!).filter((s) => s.startsWith("node:"))
    );
    assertEquals([...new Set(nodeImports)], []);
    // A CommonJS package (commander was one) makes the bundler load node:module for `require`.
    for (const [f, js] of text) {
      assert(!js.includes("__deno_internal_createRequire"), `${f} carries CommonJS code`);
    }
    assert(text.get("main.js")!.includes("Usage: "), "the bundle is the program");
    for (const [module, what] of ON_FIRST_USE) {
      const chunk = files.find((f) => f.startsWith(`${module}-`));
      assert(chunk !== undefined, `${what} (${module}) is not a chunk of its own: ${files}`);
      assert(!loaded.has(chunk), `${what} loads with the main module`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
