/**
 * A Lua script reference that names nothing, close to a file the search would find (or a shipped
 * script): the error names the setting, the paths looked in and the close one (docs/plugins.md,
 * "Configuration"). Real directories, the real directory listing.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { checkScripts } from "./mod.ts";
import { resolveScript } from "./scripts.ts";
import { recordingLogger } from "./testing.ts";

/** Two search directories, the second with `pretty_speeds.lua` and `sub/speeds.lua`. */
async function withSearchDirs(fn: (a: string, b: string) => Promise<void>): Promise<void> {
  const a = await Deno.makeTempDir({ prefix: "sqma-luadir-a-" });
  const b = await Deno.makeTempDir({ prefix: "sqma-luadir-b-" });
  try {
    await Deno.writeTextFile(`${b}/pretty_speeds.lua`, "return {}");
    await Deno.writeTextFile(`${b}/README`, "not a script");
    await Deno.mkdir(`${b}/sub`);
    await Deno.writeTextFile(`${b}/sub/speeds.lua`, "return {}");
    await fn(a, b);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
}

/** The message `resolveScript(ref)` fails with. */
async function notFound(ref: string, options: Parameters<typeof resolveScript>[1]) {
  const e = await resolveScript(ref, options).then(() => undefined, (e: Error) => e);
  assert(e !== undefined, `${ref} resolved`);
  return e.message;
}

Deno.test("scripts: a file name close to one in the search directories names it and the setting", async () => {
  await withSearchDirs(async (a, b) => {
    const dirs = { moduleDirs: [a, b], setting: "plugin_scripts" };
    assertEquals(
      await notFound("pretty_speed.lua", dirs),
      `plugin_scripts: Could not find configured plugin: pretty_speed.lua (tried ` +
        `${a}/pretty_speed.lua, ${b}/pretty_speed.lua and builtin:pretty_speed.lua) ` +
        `(did you mean "pretty_speeds.lua": ${b}/pretty_speeds.lua?); put upstream's ` +
        `pretty_speed.lua in ${a}/ or use a shipped plugin (builtin:delay_tuner, ` +
        `builtin:log_readings)`,
    );
    // A module name is answered as one; dots are subdirectories, as for require.
    assert(
      (await notFound("pretty_speedz", dirs)).includes(
        `(did you mean "pretty_speeds": ${b}/pretty_speeds.lua?)`,
      ),
    );
    assert(
      (await notFound("sub.speed", dirs)).includes(
        `(did you mean "sub.speeds": ${b}/sub/speeds.lua?)`,
      ),
    );
    // A file in the first directory comes before the shipped script of the same name.
    await Deno.writeTextFile(`${a}/log_readings.lua`, "return {}");
    assert(
      (await notFound("log_reading.lua", dirs)).includes(
        `(did you mean "log_readings.lua": ${a}/log_readings.lua?)`,
      ),
    );
  });
});

Deno.test("scripts: a name close to a shipped script, a path close to a file beside it, nothing close", async () => {
  await withSearchDirs(async (a, b) => {
    const dirs = { moduleDirs: [a, b], setting: "plugin_ratecontrol" };
    assert(
      (await notFound("log_reading", dirs)).includes(
        `(did you mean "log_readings": builtin:log_readings?)`,
      ),
    );
    assertEquals(
      await notFound("builtin:log_reading", dirs),
      'plugin_ratecontrol: no shipped Lua script "builtin:log_reading" (did you mean ' +
        '"log_readings"?); available: builtin:delay_tuner, builtin:ewma, builtin:log_readings',
    );
    const path = await notFound(`${b}/pretty_speed.lua`, dirs);
    assert(
      path.startsWith(`plugin_ratecontrol: cannot read Lua script ${b}/pretty_speed.lua`),
      path,
    );
    assert(path.endsWith(`(did you mean ${b}/pretty_speeds.lua?)`), path);
    for (const ref of ["unrelated_plugin", `${b}/unrelated.lua`, "/nonexistent/dir/x.lua"]) {
      assert(!(await notFound(ref, dirs)).includes("did you mean"), ref);
    }
  });
});

Deno.test("scripts: check-config's problem for a misspelt plugin path names its setting and the close file", async () => {
  await withSearchDirs(async (_, b) => {
    const { logger } = recordingLogger();
    const settings = settingsWithDefaults({
      plugin_ratecontrol: "builtin:log_readings",
      plugin_scripts: [`${b}/pretty_speed.lua`],
    });
    const problems = await checkScripts(settings, { logger });
    assertEquals(problems.length, 1, problems.join("\n"));
    assert(
      problems[0].startsWith(
        `plugin "${b}/pretty_speed.lua": plugin_scripts: cannot read Lua script ${b}/pretty_speed.lua`,
      ),
      problems[0],
    );
    assert(problems[0].endsWith(`(did you mean ${b}/pretty_speeds.lua?)`), problems[0]);
  });
});
