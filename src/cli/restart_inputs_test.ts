import { assertEquals } from "../util/assert.ts";
import { loadSettings } from "../config/mod.ts";
import { restartChanges, restartInputs } from "./restart_inputs.ts";

/** A UCI file with the required settings and `extra` lines. */
function uci(extra: string[] = [], base = 50000): string {
  return [
    "config network",
    "\toption upload_interface 'wan'",
    "\toption download_interface 'ifb4wan'",
    "\toption upload_base_kbits '10000'",
    `\toption download_base_kbits '${base}'`,
    ...extra,
    "",
  ].join("\n");
}

/** Writes `files` (name → text) into a fresh directory and gives `fn` their paths. */
async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sqma-restart-inputs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What a restart with the UCI file `text` at `dir/sqm-autorate` reads (with `env`, else none). */
async function reading(dir: string, text: string, env: Record<string, string> = {}) {
  await Deno.writeTextFile(`${dir}/sqm-autorate`, text);
  const resolved = loadSettings({
    configPath: `${dir}/sqm-autorate`,
    env: (name) => env[name],
    envNames: Object.keys(env),
    requireDaemon: true,
  });
  return await restartInputs(resolved, { moduleDirs: [dir] });
}

Deno.test("restart inputs: the same file, settings and scripts twice is no change", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/r.csv`, "1.1.1.1\n9.9.9.9\n");
    await Deno.writeTextFile(`${dir}/p.lua`, "return {}\n");
    await Deno.writeTextFile(`${dir}/rc.lua`, "return {}\n");
    const text = uci([
      "config advanced_settings",
      `\toption reflector_list_file '${dir}/r.csv'`,
      `\toption rate_controller '${dir}/rc.lua'`,
      "config plugins",
      `\toption ratecontrol '${dir}/p.lua'`,
      "\tlist plugin_script 'by_name'",
    ]);
    const a = await reading(dir, text);
    // Comments and blank lines do not change what runs.
    const b = await reading(dir, "# edited by hand\n\n" + text);
    assertEquals(restartChanges(a, b), []);
    // Every file the start-up reads: the list, the controller, the plugin, and where the
    // module name `by_name` was looked for (not found: a shipped script or none).
    assertEquals([...a.files.keys()], [
      `${dir}/r.csv`,
      `${dir}/rc.lua`,
      `${dir}/p.lua`,
      `${dir}/by_name.lua`,
    ]);
  });
});

Deno.test("restart inputs: a setting, a referenced file or a section Lua reads is a change", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/r.csv`, "1.1.1.1\n");
    await Deno.writeTextFile(`${dir}/p.lua`, "return {}\n");
    const lines = [
      "config advanced_settings",
      `\toption reflector_list_file '${dir}/r.csv'`,
      "config plugins",
      `\toption ratecontrol '${dir}/p.lua'`,
      "\tlist plugin_script 'by_name'",
      "config my_plugin",
      "\toption threshold '5'",
    ];
    const before = await reading(dir, uci(lines));
    const again = async (text = uci(lines)) => restartChanges(before, await reading(dir, text));

    // A setting counts as a setting, not as its section too.
    assertEquals(await again(uci(lines, 60000)), ["base_dl_rate", "min_dl_rate"]);
    await Deno.writeTextFile(`${dir}/p.lua`, "return { edited = true }\n");
    assertEquals(await again(), [`${dir}/p.lua`]);
    await Deno.writeTextFile(`${dir}/p.lua`, "return {}\n");
    await Deno.writeTextFile(`${dir}/r.csv`, "1.1.1.1\n8.8.8.8\n");
    assertEquals(await again(), [`${dir}/r.csv`]);
    await Deno.writeTextFile(`${dir}/r.csv`, "1.1.1.1\n");
    // A script appearing where a module name is looked up is what the next start loads.
    await Deno.writeTextFile(`${dir}/by_name.lua`, "return {}\n");
    assertEquals(await again(), [`${dir}/by_name.lua`]);
    await Deno.remove(`${dir}/by_name.lua`);
    // Plugins read any section (settings.plugin(type)), this one included.
    const edited = lines.with(-1, "\toption threshold '6'");
    assertEquals(await again(uci(edited)), ["section my_plugin"]);
    assertEquals(await again(), []);
  });
});

Deno.test("restart inputs: without Lua, sections no setting reads are not compared", async () => {
  await withDir(async (dir) => {
    const before = await reading(dir, uci(["config my_plugin", "\toption threshold '5'"]));
    const after = await reading(dir, uci(["config my_plugin", "\toption threshold '6'"]));
    assertEquals(restartChanges(before, after), []);
    assertEquals(before.files.size, 0, "the shipped reflector list is no file");
  });
});

Deno.test("restart inputs: with Lua, a moved section or an overridden option is no change", async () => {
  await withDir(async (dir) => {
    const env = { SQMA_LOG_LEVEL: "INFO" };
    const output = ["config output", "\toption log_level 'WARN'"];
    const plugin = ["config plugins", "\toption ratecontrol 'builtin:log_readings'"];
    const mine = ["config my_plugin", "\toption threshold '5'"];
    const before = await reading(dir, uci([...output, ...plugin, ...mine]), env);
    // The sections in another order (libuci's `.index` and anonymous `.name` follow it), and
    // `log_level` edited where the variable overrides it: a script gets the same `settings` and
    // the same options of each section.
    const moved = uci([...mine, ...plugin, "config output", "\toption log_level 'DEBUG'"]);
    assertEquals(restartChanges(before, await reading(dir, moved, env)), []);
    // An option that is no setting, in a section of the daemon's or a plugin's, still counts.
    const extra = uci([...output, "\toption note 'x'", ...plugin, ...mine]);
    assertEquals(restartChanges(before, await reading(dir, extra, env)), ["section output"]);
    const named = uci([...output, ...plugin, "config my_plugin 'mine'", "\toption threshold '5'"]);
    assertEquals(restartChanges(before, await reading(dir, named, env)), ["section my_plugin"]);
  });
});
