/**
 * `check-config`'s look at the local shapers: the interfaces `run` would shape and their root
 * qdiscs, asked of `tc` once, as `run` asks at start. Warnings only: a configuration is often
 * checked away from the router it is meant for (docs/install.md), and sqm-scripts may create an
 * IFB only after it is checked. Each says what `run` would do about it.
 */
import { createShaperPair, ShaperCheckError } from "./shaper.ts";
import { readLinkKind } from "./link_kind.ts";
import { swappedInterfaces } from "./swapped_interfaces.ts";
import { rootQdiscDevices } from "./root_qdisc_devices.ts";
import { probePrivilege } from "./tc_privilege.ts";
import type { ShaperKind } from "../control/ports.ts";
import type { CommandRunner } from "../util/command.ts";

/** The settings the check reads. */
export interface LocalShaperSettings {
  readonly shaper: ShaperKind;
  readonly dl_if: string;
  readonly ul_if: string;
  readonly htb_classid: string;
}

/** Options of {@linkcode localShaperWarnings}. */
export interface LocalShaperCheckOptions {
  /** `run`'s wait for a missing interface: attempts (src/daemon/mod.ts, `INTERFACE_WAIT`). */
  readonly attempts: number;
  /** Seconds between attempts. */
  readonly retryDelayS: number;
  /** Command runner (tests; default Deno.Command). */
  readonly runner?: CommandRunner;
}

/** One warning per shaper `run` could not use here now, naming the setting and the outcome. */
export async function localShaperWarnings(
  settings: LocalShaperSettings,
  options: LocalShaperCheckOptions,
): Promise<string[]> {
  const { attempts, retryDelayS: delayS } = options;
  const pair = createShaperPair(settings, { batch: false, runner: options.runner });
  const warnings: string[] = [];
  const usable: string[] = [];
  for (const [setting, shaper] of [["dl_if", pair.dl], ["ul_if", pair.ul]] as const) {
    try {
      await shaper.check();
      usable.push(settings[setting]);
    } catch (e) {
      const message = (e as Error).message;
      if (e instanceof ShaperCheckError && e.reason === "missing-interface") {
        warnings.push(
          `${setting} "${settings[setting]}": ${message} here now; run waits for it ` +
            `(${attempts} attempts, ${delayS} s apart), then exits 69` +
            await candidatesText(settings.shaper, options.runner),
        );
      } else if (e instanceof ShaperCheckError && e.reason !== "tc-failed") {
        warnings.push(`${setting} "${settings[setting]}": ${message}; run would exit 69 at once`);
      } else {
        warnings.push(`${setting} "${settings[setting]}": shaper not checked here (${message})`);
      }
    }
  }
  await pair.close?.();
  // tc shows qdiscs to anyone: the check above passes without the privilege to change them.
  const refused = usable.length > 0 ? await probePrivilege(usable, options.runner) : undefined;
  if (refused !== undefined) warnings.push(`${refused}; run would exit 69 at once`);
  const swapped = await swappedWarning(settings, options.runner);
  return swapped === undefined ? warnings : [...warnings, swapped];
}

/**
 * What a missing interface was probably meant to be: the devices here with a root qdisc of the
 * configured kind, or that none has one; "" when tc cannot tell.
 */
async function candidatesText(
  shaper: ShaperKind,
  runner: CommandRunner | undefined,
): Promise<string> {
  const devices = await rootQdiscDevices(shaper, { runner });
  if (devices === undefined) return "";
  return devices.length > 0
    ? `; interfaces here with a root ${shaper} qdisc: ${devices.join(", ")}`
    : `; no interface here has a root ${shaper} qdisc (SQM not set up yet?)`;
}

/** {@linkcode swappedInterfaces} on the kinds `ip` reports here, with what `run` would do. */
async function swappedWarning(
  settings: LocalShaperSettings,
  runner: CommandRunner | undefined,
): Promise<string | undefined> {
  const [ulKind, dlKind] = await Promise.all([
    readLinkKind(settings.ul_if, { runner }),
    readLinkKind(settings.dl_if, { runner }),
  ]);
  const swapped = swappedInterfaces({ ...settings, ulKind, dlKind });
  return swapped === undefined
    ? undefined
    : `${swapped}; run would shape the download at the upload rates`;
}
