/**
 * Wires the observability outputs of a running daemon: the telemetry collector (a control-loop
 * observer fed with replies and read-only views of measurement and plugins), the HTTP listener
 * when `metrics_listen` is set, and the MQTT publisher when `mqtt_url` is set. See
 * docs/observability.md. The listener (with the live page's embedded uPlot) and the publisher are
 * imported only when configured, so that they stay out of the daemon's main module otherwise
 * (docs/footprint.md, "Code splitting").
 */
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import type { ControlObserver } from "../control/ports.ts";
import type { Measurement } from "../measure/mod.ts";
import { Telemetry } from "../report/telemetry.ts";
import type { ObservabilityServer } from "../report/http_server.ts";
import { parseListenAddress } from "../util/listen_address.ts";
import type { MqttPublisher } from "../report/mqtt_publisher.ts";
import { parseMqttUrl } from "../report/mqtt_url.ts";
import { systemClock } from "../util/clock.ts";

/** What the daemon gets: observers for the loop, and a stop function. */
export interface Observability {
  /** Control-loop observers. */
  observers: ControlObserver[];
  /** A listener or publisher runs on the daemon's thread between ticks (it must not block). */
  usesThread: boolean;
  /** Stops the listener. */
  stop(): Promise<void>;
}

/** Things read when figures are requested. */
export interface ObservabilityInputs {
  /** The measurement pipeline. */
  measurement: Measurement;
  /** Lua plugin health, when plugins are loaded. */
  plugins?: () => { errors: number; disabled: readonly string[] };
}

/** What `startObservability` publishes and how it logs. */
export interface ObservabilityOutputs {
  /** The collector to serve and publish; none when nothing reads it (`telemetryRead`). */
  telemetry: Telemetry | undefined;
  /** Logger. */
  logger: Logger;
  /** Program version (Home Assistant device entry). */
  version: string;
}

/**
 * Starts the listener when `metrics_listen` is set and the MQTT publisher when `mqtt_url` is.
 * A listener that cannot bind (address in use, not permitted) is logged and the daemon runs on
 * without it: shaping matters more than its dashboard; an unreachable broker is retried with
 * backoff in the background.
 */
export async function startObservability(
  settings: Pick<Settings, "metrics_listen" | "mqtt_url" | "mqtt_interval" | "ul_if" | "dl_if">,
  inputs: ObservabilityOutputs,
): Promise<Observability> {
  const { telemetry, logger } = inputs;
  let server: ObservabilityServer | undefined;
  if (telemetry !== undefined && settings.metrics_listen.trim() !== "") {
    const address = parseListenAddress(settings.metrics_listen);
    try {
      const { startObservabilityServer } = await import("../report/http_server.ts");
      server = await startObservabilityServer(address, { telemetry, logger });
    } catch (e) {
      logger.error("cannot listen on {address} for metrics and the live page: {error}", {
        address: address.text,
        error: String(e),
      });
    }
  }
  let mqtt: MqttPublisher | undefined;
  if (telemetry !== undefined && settings.mqtt_url.trim() !== "") {
    // Reads the telemetry on its own timer: the control loop never waits for the broker.
    const { MqttPublisher } = await import("../report/mqtt_publisher.ts");
    mqtt = new MqttPublisher({
      target: parseMqttUrl(settings.mqtt_url),
      source: telemetry,
      nodeId: `sqm_autorate_${settings.ul_if}_${settings.dl_if}`.replace(/[^A-Za-z0-9_-]/g, "_"),
      deviceName: `sqm-autorate ${settings.ul_if}/${settings.dl_if}`,
      version: inputs.version,
      intervalS: settings.mqtt_interval,
      logger,
    });
    mqtt.start();
  }
  return {
    observers: telemetry === undefined ? [] : [telemetry],
    usesThread: server !== undefined || mqtt !== undefined,
    stop: async () => {
      await mqtt?.stop().catch(() => {});
      await server?.shutdown().catch(() => {});
    },
  };
}

/**
 * Whether anything reads the telemetry: the listener (`metrics_listen`) or the MQTT publisher
 * (`mqtt_url`). Either is set only at start-up (a SIGHUP that changes one restarts the daemon), so
 * a daemon without both never reads it.
 */
export function telemetryRead(settings: Pick<Settings, "metrics_listen" | "mqtt_url">): boolean {
  return settings.metrics_listen.trim() !== "" || settings.mqtt_url.trim() !== "";
}

/**
 * The telemetry of a daemon: reads reflector state, pinger starts, plugin health and memory. None
 * when nothing reads it (`telemetryRead`): fed every tick and every reply for nobody, it cost the
 * control loop a tick event and the telemetry's bookkeeping per decision (docs/footprint.md,
 * "Twenty-second session").
 */
export function daemonTelemetry(
  settings: Pick<
    Settings,
    "tick_interval" | "peer_reselection_time" | "metrics_listen" | "mqtt_url"
  >,
  inputs: ObservabilityInputs,
): Telemetry | undefined {
  if (!telemetryRead(settings)) return undefined;
  const m = inputs.measurement;
  return new Telemetry({
    owd: m.owd,
    pingerStarts: () => m.pinger?.starts ?? 0,
    plugins: inputs.plugins,
    memory: () => Deno.memoryUsage(),
    monotonicS: () => systemClock.monotonicS(),
    tickIntervalS: settings.tick_interval,
    reselectionS: settings.peer_reselection_time * 60,
  });
}
