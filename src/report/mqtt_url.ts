/**
 * `mqtt_url` parsing, apart from the publisher (src/report/mqtt_publisher.ts): the settings
 * checks need it in every daemon, the publisher only when MQTT is configured, and it is imported
 * then (docs/footprint.md, "Code splitting").
 */

/** A parsed `mqtt://[user[:password]@]host[:port]` URL. */
export interface MqttTarget {
  /** Broker host. */
  hostname: string;
  /** Broker port (default 1883). */
  port: number;
  /** User name, if given. */
  username?: string;
  /** Password, if given. */
  password?: string;
  /** `HOST:PORT` as Deno's net permission names it. */
  text: string;
}

/** Parses `mqtt_url`; throws an Error saying what is wrong. */
export function parseMqttUrl(value: string): MqttTarget {
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    throw new Error(`"${value}" is not a URL like mqtt://127.0.0.1:1883`);
  }
  if (u.protocol !== "mqtt:") {
    throw new Error(`"${value}": only mqtt:// is supported (plain TCP, no TLS)`);
  }
  if (u.hostname === "") throw new Error(`"${value}" has no host`);
  const port = u.port === "" ? 1883 : Number(u.port);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    hostname,
    port,
    username: u.username === "" ? undefined : decodeURIComponent(u.username),
    password: u.password === "" ? undefined : decodeURIComponent(u.password),
    text: `${u.hostname}:${port}`,
  };
}
