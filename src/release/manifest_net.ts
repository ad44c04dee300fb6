/**
 * The network check of `check-config`, `run` and a SIGHUP's re-read: `metrics_listen` and the
 * broker of `mqtt_url` must be addresses the daemon's permission manifest allows, so a wrong one
 * fails before anything starts (exit 78) with the allowed ones instead of as a NotCapable error
 * in the running daemon, or, under permissions wider than the manifest's (a checkout's
 * `-P=dev`), as a listener on a local broker's port. Pure.
 */
import { parseListenAddress } from "../util/listen_address.ts";
import { parseMqttUrl } from "../report/mqtt_url.ts";
import type { Settings } from "../config/types.ts";
import type { PermissionManifest } from "./manifest.ts";

/**
 * The port of the metrics listener in the manifest: `metrics_listen` may use only the manifest's
 * entries on it, and the MQTT broker only the others. Deno's net permission does not tell
 * listening from connecting, so without this split `metrics_listen` 127.0.0.1:1883 passed and took
 * a local broker's port (started after the daemon, the broker could not bind; the daemon's own
 * publisher then talked MQTT to its HTTP listener), and `mqtt_url` mqtt://127.0.0.1:9101 pointed
 * the publisher at that listener.
 */
export const METRICS_PORT = 9101;

/** The port of a `HOST:PORT` manifest entry (`[::1]:9101` too). */
function portOf(entry: string): number {
  return Number(entry.slice(entry.lastIndexOf(":") + 1));
}

/** The manifest's entries `metrics_listen` may use: those on {@link METRICS_PORT}. */
export function listenEntries(manifest: PermissionManifest): string[] {
  return manifest.net.filter((e) => portOf(e) === METRICS_PORT);
}

/** The manifest's entries the MQTT broker may be at: all but the metrics listener's. */
export function brokerEntries(manifest: PermissionManifest): string[] {
  return manifest.net.filter((e) => portOf(e) !== METRICS_PORT);
}

function outside(setting: string, text: string, allowed: readonly string[]): string {
  return `${setting}: ${text} is outside the daemon's permission manifest, which allows only ` +
    `${allowed.join(", ")} for it; use one of those (or widen permissions.daemon.net in ` +
    `deno.json and rebuild)`;
}

/**
 * The problem with `setting`'s `value` (parsed by `parse`) given the manifest's `allowed` entries
 * for it, or undefined when it is fine or empty.
 */
function entryProblem(
  setting: string,
  value: string,
  check: { parse: (value: string) => { text: string }; allowed: readonly string[] },
): string | undefined {
  if (value.trim() === "") return undefined;
  let text: string;
  try {
    text = check.parse(value).text;
  } catch (e) {
    return `${setting}: ${(e as Error).message}`;
  }
  return check.allowed.includes(text) ? undefined : outside(setting, text, check.allowed);
}

/** The problem with `metrics_listen` under `manifest`, or undefined when it is fine or empty. */
export function listenProblem(listen: string, manifest: PermissionManifest): string | undefined {
  return entryProblem("metrics_listen", listen, {
    parse: parseListenAddress,
    allowed: listenEntries(manifest),
  });
}

/** The problem with `mqtt_url` under `manifest`, or undefined when it is fine or empty. */
export function mqttProblem(url: string, manifest: PermissionManifest): string | undefined {
  return entryProblem("mqtt_url", url, { parse: parseMqttUrl, allowed: brokerEntries(manifest) });
}

/**
 * Every problem of `metrics_listen` and `mqtt_url` under `manifest` (a value that does not parse
 * included), as `setting: why`; the one check `check-config`, `run` and a SIGHUP's re-read make.
 */
export function netProblems(
  settings: Pick<Settings, "metrics_listen" | "mqtt_url">,
  manifest: PermissionManifest,
): string[] {
  return [
    listenProblem(settings.metrics_listen, manifest),
    mqttProblem(settings.mqtt_url, manifest),
  ]
    .filter((p) => p !== undefined);
}
