/**
 * MQTT for Home Assistant (`mqtt_url`): publishes Home Assistant discovery messages (retained),
 * an availability topic (retained `online`, with `offline` as the last will) and a state message
 * every `mqtt_interval` seconds, read from the telemetry. Runs on its own timer and connection:
 * the control loop never waits for it, a dead broker costs the loop nothing, a slow one makes
 * the publisher skip state messages rather than queue them. Reconnects with exponential backoff
 * (1 s doubling to 60 s). See docs/observability.md.
 */
import type { Logger } from "../log/logger.ts";
import { type Clock, realSleep, type Sleep, systemClock } from "../util/clock.ts";
import type { DirectionNow } from "./telemetry.ts";
import {
  connectPacket,
  disconnectPacket,
  PacketReader,
  PacketType,
  pingPacket,
  publishPacket,
} from "./mqtt_packets.ts";
import type { MqttTarget } from "./mqtt_url.ts";

/** What the publisher reads each period. */
export interface MqttStateSource {
  /** Latest values per direction and the tick count. */
  readonly now: { dl: DirectionNow; ul: DirectionNow; fresh: number; ticks: number };
}

/** Options of `MqttPublisher`. */
export interface MqttPublisherOptions {
  /** Broker. */
  target: MqttTarget;
  /** Where the values come from. */
  source: MqttStateSource;
  /** Names this daemon (topics, unique ids); letters, digits, `_` and `-` only. */
  nodeId: string;
  /** Shown in Home Assistant as the device name. */
  deviceName: string;
  /** Program version for the device entry. */
  version: string;
  /** State period, s. */
  intervalS: number;
  /** Logger. */
  logger: Logger;
  /** Opens the TCP connection (default `Deno.connect`). */
  connect?: (hostname: string, port: number) => Promise<Deno.Conn>;
  /** Sleep (default real timers). */
  sleep?: Sleep;
  /**
   * Clock of the keepalive (its monotonic time; default the system clock): a wall clock stepped
   * back by NTP must not stop the pings (docs/operation.md, "Wall-clock steps").
   */
  clock?: Clock;
  /** First reconnect delay, ms (default 1000; doubles up to `maxBackoffMs`). */
  initialBackoffMs?: number;
  /** Longest reconnect delay, ms (default 60 000). */
  maxBackoffMs?: number;
}

/** One Home Assistant sensor. */
interface Sensor {
  key: string;
  name: string;
  /** Unit of measurement; none for a count. */
  unit?: string;
  deviceClass?: string;
  value: (n: MqttStateSource["now"]) => number;
}

const round = (x: number, digits: number) =>
  Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null;

const SENSORS: readonly Sensor[] = [
  ["download", "dl"] as const,
  ["upload", "ul"] as const,
].flatMap(([dir, k]): Sensor[] => {
  const Dir = dir === "download" ? "Download" : "Upload";
  return [
    {
      key: `${dir}_rate`,
      name: `${Dir} shaper rate`,
      unit: "Mbit/s",
      deviceClass: "data_rate",
      value: (n: MqttStateSource["now"]) => n[k].rateKbit / 1000,
    },
    {
      key: `${dir}_throughput`,
      name: `${Dir} throughput`,
      unit: "Mbit/s",
      deviceClass: "data_rate",
      value: (n: MqttStateSource["now"]) => n[k].throughputKbit / 1000,
    },
    {
      key: `${dir}_load`,
      name: `${Dir} load`,
      unit: "%",
      value: (n: MqttStateSource["now"]) => n[k].load * 100,
    },
    {
      key: `${dir}_delay`,
      name: `${Dir} delay`,
      unit: "ms",
      deviceClass: "duration",
      value: (n: MqttStateSource["now"]) => n[k].delayMs,
    },
  ];
}).concat([
  // 0 while no reflector answers (an outage, ICMP blocked): the delays are unknown then, and
  // nothing else in the state says why (docs/observability.md, "MQTT for Home Assistant").
  { key: "reflectors_fresh", name: "Fresh reflectors", value: (n) => n.fresh },
]);

/** Topics of one node. */
export function mqttTopics(nodeId: string): { state: string; availability: string } {
  return {
    state: `sqm-autorate/${nodeId}/state`,
    availability: `sqm-autorate/${nodeId}/availability`,
  };
}

/** The discovery messages: `[topic, JSON payload]`, published retained. */
export function discoveryMessages(
  o: Pick<MqttPublisherOptions, "nodeId" | "deviceName" | "version">,
): [string, string][] {
  const t = mqttTopics(o.nodeId);
  return SENSORS.map((s) => [
    `homeassistant/sensor/${o.nodeId}/${s.key}/config`,
    JSON.stringify({
      name: s.name,
      unique_id: `${o.nodeId}_${s.key}`,
      state_topic: t.state,
      value_template: `{{ value_json.${s.key} }}`,
      ...(s.unit ? { unit_of_measurement: s.unit } : {}),
      ...(s.deviceClass ? { device_class: s.deviceClass } : {}),
      state_class: "measurement",
      availability_topic: t.availability,
      device: {
        identifiers: [`sqm-autorate-${o.nodeId}`],
        name: o.deviceName,
        model: "sqm-autorate",
        sw_version: o.version,
      },
    }),
  ]);
}

/** The state message: one number per sensor key (null while unknown). */
export function statePayload(now: MqttStateSource["now"]): string {
  const out: Record<string, number | null> = {};
  for (const s of SENSORS) out[s.key] = round(s.value(now), s.unit === "Mbit/s" ? 3 : 1);
  return JSON.stringify(out);
}

/** Keeps one broker connection and publishes on its own timer. */
export class MqttPublisher {
  readonly #o: MqttPublisherOptions;
  readonly #sleep: Sleep;
  readonly #abort = new AbortController();
  #conn: Deno.Conn | undefined;
  #loop: Promise<void> | undefined;
  #writing = false;
  /** Connections made so far (tests, diagnostics). */
  connects = 0;
  /** State messages sent so far. */
  statesSent = 0;
  /** State messages skipped because the previous write had not finished. */
  statesSkipped = 0;

  /** See `MqttPublisherOptions`. */
  constructor(options: MqttPublisherOptions) {
    this.#o = options;
    this.#sleep = options.sleep ?? realSleep;
  }

  /** Starts connecting and publishing in the background (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Publishes `offline`, disconnects and stops reconnecting. */
  async stop(): Promise<void> {
    this.#abort.abort();
    const conn = this.#conn;
    if (conn !== undefined && !this.#writing) {
      const t = mqttTopics(this.#o.nodeId);
      await this.#write(publishPacket(t.availability, "offline", { retain: true })).catch(() => {});
      await this.#write(disconnectPacket()).catch(() => {});
    }
    this.#close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const log = this.#o.logger;
    const max = this.#o.maxBackoffMs ?? 60_000;
    let backoff = this.#o.initialBackoffMs ?? 1000;
    let down = false; // log an outage once, not every retry
    while (!signal.aborted) {
      try {
        await this.#session(() => {
          backoff = this.#o.initialBackoffMs ?? 1000;
          if (down) {
            log.info("MQTT broker {broker} reachable again", { broker: this.#o.target.text });
          }
          down = false;
        });
      } catch (e) {
        if (signal.aborted) break;
        if (!down) {
          log.warning("MQTT broker {broker}: {error}; retrying with backoff (up to {max} s)", {
            broker: this.#o.target.text,
            error: e instanceof Error ? e.message : String(e),
            max: max / 1000,
          });
        }
        down = true;
      } finally {
        this.#close();
      }
      if (signal.aborted) break;
      await this.#sleep(backoff, signal);
      backoff = Math.min(max, backoff * 2);
    }
  }

  /** One connection: CONNECT, discovery, then state every interval until it fails. */
  async #session(onUp: () => void): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    const connect = o.connect ?? ((hostname, port) => Deno.connect({ hostname, port }));
    const conn = await withTimeout(connect(o.target.hostname, o.target.port), 5000, "connect");
    this.#conn = conn;
    const t = mqttTopics(o.nodeId);
    const keepAliveS = Math.max(30, Math.ceil(o.intervalS * 3));
    await this.#write(connectPacket({
      clientId: `sqm-autorate-${o.nodeId}`,
      keepAliveS,
      username: o.target.username,
      password: o.target.password,
      will: { topic: t.availability, payload: "offline", retain: true },
    }));
    const reader = new PacketReader();
    const buf = new Uint8Array(512);
    let connack: ((code: number) => void) | undefined;
    const acked = new Promise<number>((resolve) => (connack = resolve));
    // Reads until the connection closes; resolves then (or rejects on a read error).
    const closed = (async () => {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        for (const p of reader.push(buf.subarray(0, n))) {
          if (p.type === PacketType.CONNACK) connack?.(p.body[1] ?? 255);
        }
      }
    })();
    closed.catch(() => {}); // observed below (CONNACK, and it wakes the interval's sleep)
    const code = await withTimeout(
      Promise.race([acked, closed.then(() => Promise.reject(new Error("closed before CONNACK")))]),
      5000,
      "CONNACK",
    );
    if (code !== 0) throw new Error(`broker refused the connection (CONNACK code ${code})`);
    this.connects++;
    onUp();
    for (const [topic, payload] of discoveryMessages(o)) {
      await this.#write(publishPacket(topic, payload, { retain: true }));
    }
    await this.#write(publishPacket(t.availability, "online", { retain: true }));
    // The interval's sleep ends early when the connection closes or the publisher stops: one
    // signal per connection, not a race with `closed` per interval (each race would leave a
    // reaction on `closed` for the connection's life: about 300 bytes an interval, for months).
    const wake = new AbortController();
    const stop = () => wake.abort();
    signal.addEventListener("abort", stop, { once: true });
    closed.then(stop, stop);
    const clock = o.clock ?? systemClock;
    let lastSend = clock.monotonicS();
    try {
      while (!wake.signal.aborted) {
        if (this.#o.source.now.ticks > 0) {
          if (this.#writing) {
            this.statesSkipped++;
          } else {
            void this.#write(publishPacket(t.state, statePayload(o.source.now), { retain: false }))
              .then(() => void this.statesSent++, () => this.#close());
            lastSend = clock.monotonicS();
          }
        }
        if (clock.monotonicS() - lastSend > keepAliveS / 2 && !this.#writing) {
          void this.#write(pingPacket()).catch(() => this.#close());
          lastSend = clock.monotonicS();
        }
        await this.#sleep(o.intervalS * 1000, wake.signal);
      }
    } finally {
      signal.removeEventListener("abort", stop);
    }
    if (!signal.aborted) throw new Error("connection closed by the broker");
  }

  /** Writes a whole packet; `#writing` is set while a write is in flight. */
  async #write(bytes: Uint8Array): Promise<void> {
    const conn = this.#conn;
    if (conn === undefined) throw new Error("not connected");
    this.#writing = true;
    try {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    } finally {
      this.#writing = false;
    }
  }

  #close(): void {
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#conn = undefined;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
