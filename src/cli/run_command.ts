import type { Command } from "commander";
import { settingsFromCommand } from "./settings_options.ts";
import { configureLogging, stageLogger } from "../log/mod.ts";
import { uciSectionOptions } from "../config/uci.ts";
import { runDaemon } from "../daemon/mod.ts";
import { createMeasurement } from "../measure/mod.ts";
import { createLuaRatecontroller, createPluginManager } from "../lua/mod.ts";
import type { RateAdjuster } from "../control/ratecontroller_port.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { checkPathsAgainstManifest } from "../release/manifest_paths.ts";
import { DAEMON_MANIFEST } from "../release/manifest.ts";

/**
 * `run`: resolves the settings (interfaces and base rates required), builds the measurement
 * pipeline, the plugins and the controller, and runs the daemon until SIGINT/SIGTERM. Returns
 * the daemon's exit code; children are stopped before it returns.
 */
export async function runAction(cmd: Command): Promise<number> {
  const resolved = settingsFromCommand(cmd, { requireDaemon: true });
  const settings = resolved.settings;
  configureLogging(settings.log_level, { format: settings.log_format });
  const log = stageLogger("main");
  log.info("Starting sqm-autorate {version}", { version: denoJson.version });
  for (const w of resolved.warnings) log.warning(w);
  // Not fatal: from a checkout (`-P=dev`) other paths work; under the release manifest they
  // would fail later, so say so now.
  for (
    const issue of checkPathsAgainstManifest(settings, DAEMON_MANIFEST, {
      configPath: resolved.uci?.path,
    })
  ) {
    log.warning("{message}", { message: issue.message });
  }
  const pluginSections = (type: string) => uciSectionOptions(resolved.uci, type);

  // Plugins that fail to load are logged and skipped inside the manager: the daemon runs on.
  const adjusters: RateAdjuster[] = [];
  const plugins = await createPluginManager({
    settings,
    logger: stageLogger("plugins"),
    pluginSections,
  });
  if (plugins) adjusters.push(plugins);

  return await runDaemon(settings, {
    measurement: createMeasurement(settings),
    luaFactory: (context) => createLuaRatecontroller(context, { pluginSections }),
    adjusters,
    stateDir: settings.state_dir,
  });
}
