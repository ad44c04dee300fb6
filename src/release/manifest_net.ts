/**
 * check-config's network check: `metrics_listen` and the broker of `mqtt_url` must be addresses
 * the daemon's permission manifest allows, so a wrong one fails at `check-config` with the
 * allowed ones instead of as a NotCapable error in the running daemon. Pure.
 */
import { parseListenAddress } from "../util/listen_address.ts";
import { parseMqttUrl } from "../report/mqtt_url.ts";
import type { PermissionManifest } from "./manifest.ts";

function outside(setting: string, text: string, manifest: PermissionManifest): string {
  return `${setting}: ${text} is outside the daemon's permission manifest, which allows only ` +
    `${manifest.net.join(", ")}; use one of those (or widen permissions.daemon.net in deno.json ` +
    `and rebuild)`;
}

/** The problem with `metrics_listen` under `manifest`, or undefined when it is fine or empty. */
export function listenProblem(listen: string, manifest: PermissionManifest): string | undefined {
  if (listen.trim() === "") return undefined;
  let text: string;
  try {
    text = parseListenAddress(listen).text;
  } catch (e) {
    return `metrics_listen: ${(e as Error).message}`;
  }
  return manifest.net.includes(text) ? undefined : outside("metrics_listen", text, manifest);
}

/** The problem with `mqtt_url` under `manifest`, or undefined when it is fine or empty. */
export function mqttProblem(url: string, manifest: PermissionManifest): string | undefined {
  if (url.trim() === "") return undefined;
  let text: string;
  try {
    text = parseMqttUrl(url).text;
  } catch (e) {
    return `mqtt_url: ${(e as Error).message}`;
  }
  return manifest.net.includes(text) ? undefined : outside("mqtt_url", text, manifest);
}
