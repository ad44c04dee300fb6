import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { needs } from "../util/netns_testing.ts";
import { ConfigFileError, readUciFile } from "./uci_file.ts";
import { loadSettings } from "./mod.ts";
import { ConfigError } from "./resolve.ts";

const UCI_FILE = new URL("./uci_file.ts", import.meta.url).href;

/** Why the file cannot be read as another user here (not root, no `setpriv`), else undefined. */
function unprivilegedSkipReason(): string | undefined {
  if (Deno.uid() !== 0) return "not root";
  try {
    new Deno.Command("setpriv", { args: ["--version"], stdout: "null" }).outputSync();
  } catch {
    return "no setpriv";
  }
  return undefined;
}

Deno.test("uci file: a missing default file is no file, a missing --config file an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-uci-" });
  try {
    assertEquals(readUciFile(`${dir}/none`), undefined);
    const e = assertThrows(() => readUciFile(`${dir}/none`, { explicit: true }), ConfigFileError);
    assertEquals(e.message, `${dir}/none: no such file (given with --config)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  ...needs(
    "uci file: one this user may not read (0600, root's) is named with why, at the default path too",
    unprivilegedSkipReason(),
  ),
  fn: async () => {
    // As upstream's /etc/config/sqm-autorate would be, read by `sqm-autorate check-config` without
    // sudo: read as missing, its settings were reported as not set.
    const dir = await Deno.makeTempDir({ prefix: "sqma-uci-" });
    const denoDir = await Deno.makeTempDir({ prefix: "sqma-uci-deno-" });
    try {
      await Deno.chmod(dir, 0o755);
      await Deno.chown(denoDir, 65534, 65534);
      const file = `${dir}/sqm-autorate`;
      await Deno.writeTextFile(file, "config network\n\toption upload_interface 'wan'\n", {
        mode: 0o600,
      });
      const script = `${dir}/read.ts`;
      await Deno.writeTextFile(
        script,
        [
          `import { readUciFile } from "${UCI_FILE}";`,
          "for (const explicit of [false, true]) {",
          "  try {",
          `    console.log(JSON.stringify(readUciFile("${file}", { explicit })));`,
          "  } catch (e) {",
          "    console.log(`${(e as Error).name}: ${(e as Error).message}`);",
          "  }",
          "}",
        ].join("\n"),
      );
      await Deno.chmod(script, 0o644);
      const out = await new Deno.Command("setpriv", {
        args: [
          ...["--reuid=65534", "--regid=65534", "--clear-groups", Deno.execPath()],
          ...["run", "--no-config", "--no-lock", "--allow-read", script],
        ],
        env: { DENO_DIR: denoDir, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      assert(out.success, new TextDecoder().decode(out.stderr));
      assertEquals(lines.length, 2, lines.join("\n"));
      for (const line of lines) {
        assert(line.startsWith(`ConfigFileError: ${file}: not readable by this user: `), line);
        assert(line.includes("Permission denied"), line);
        assert(line.includes("run sqm-autorate as root"), line);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});

Deno.test("uci file: settings left unset because the default file is missing say that no file was read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-uci-" });
  try {
    const load = (o: { configPath?: string; flags?: Record<string, unknown> } = {}) =>
      assertThrows(
        () =>
          loadSettings({
            ...o,
            defaultConfigPath: `${dir}/sqm-autorate`,
            env: () => undefined,
            envNames: [],
            requireDaemon: true,
          }),
        ConfigError,
      );
    const missing = load();
    assert(missing.message.includes("ul_if (not set): is required"), missing.message);
    assertEquals(missing.warnings, [
      `no configuration file: ${dir}/sqm-autorate was not found, so only flags and SQMA_* ` +
      'variables were read; create it (docs/install.md, "Configure") or give one with --config FILE' +
      ` (coming from the Rust port: copy its ${dir}/sqm-autorate-rust there; docs/install.md, ` +
      '"Coming from upstream or the Rust port")',
    ]);
    // A file that is there and leaves them unset needs no such note, nor does a bad flag value.
    await Deno.writeTextFile(`${dir}/sqm-autorate`, "config network\n");
    assertEquals(load().warnings, []);
    await Deno.remove(`${dir}/sqm-autorate`);
    const bad = load({
      flags: { ul_if: "wan", dl_if: "ifb4wan", base_ul_rate: "0", base_dl_rate: "1000" },
    });
    assertEquals(bad.warnings, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
