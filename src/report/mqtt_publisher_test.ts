/**
 * The MQTT publisher against a real broker: Debian's mosquitto, started by the test on a free
 * loopback port, read back with mosquitto_sub. Skips with the reason when mosquitto is missing.
 */
import { assert, assertEquals, waitUntil } from "../util/assert.ts";
import { discoveryMessages, MqttPublisher, mqttTopics } from "./mqtt_publisher.ts";
import { parseMqttUrl } from "./mqtt_url.ts";
import {
  connectPacket,
  encodeRemainingLength,
  PacketReader,
  publishPacket,
} from "./mqtt_packets.ts";
import { stageLogger } from "../log/mod.ts";
import { realSleep } from "../util/clock.ts";
import type { DirectionNow } from "./telemetry.ts";

const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
const SUB = "/usr/bin/mosquitto_sub";
const missing = MOSQUITTO === undefined ? "mosquitto not installed" : (() => {
  try {
    Deno.statSync(SUB);
    return undefined;
  } catch {
    return "mosquitto_sub not installed (mosquitto-clients)";
  }
})();

Deno.test("mqtt packets: remaining length, CONNECT flags, PUBLISH retain, split reads", () => {
  assertEquals(encodeRemainingLength(0), [0]);
  assertEquals(encodeRemainingLength(127), [127]);
  assertEquals(encodeRemainingLength(128), [0x80, 1]);
  assertEquals(encodeRemainingLength(16_383), [0xff, 0x7f]);
  assertEquals(encodeRemainingLength(2_097_152), [0x80, 0x80, 0x80, 1]);
  const c = connectPacket({
    clientId: "x",
    keepAliveS: 30,
    username: "u",
    password: "p",
    will: { topic: "t", payload: "offline", retain: true },
  });
  assertEquals(c[0], 0x10);
  assertEquals(c[9], 0x02 | 0x04 | 0x20 | 0x40 | 0x80); // clean, will, will retain, password, user
  const p = publishPacket("a/b", "hello", { retain: true });
  assertEquals(p[0], 0x31);
  const r = new PacketReader();
  assertEquals(r.push(p.subarray(0, 3)), []);
  const got = r.push(p.subarray(3));
  assertEquals(got.length, 1);
  assertEquals(got[0].type, 3);
  assertEquals(new TextDecoder().decode(got[0].body.subarray(5)), "hello");
});

Deno.test("mqtt_url parsing: user, password, default port, IPv6", () => {
  assertEquals(parseMqttUrl("mqtt://ha:s%40cret@127.0.0.1"), {
    hostname: "127.0.0.1",
    port: 1883,
    username: "ha",
    password: "s@cret",
    text: "127.0.0.1:1883",
  });
  assertEquals(parseMqttUrl("mqtt://[::1]:1884").hostname, "::1");
  assertEquals(parseMqttUrl("mqtt://[::1]:1884").text, "[::1]:1884");
});

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function startBroker(dir: string, port: number): Promise<Deno.ChildProcess> {
  await Deno.writeTextFile(
    `${dir}/mosquitto.conf`,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
  );
  const broker = new Deno.Command(MOSQUITTO!, {
    args: ["-c", `${dir}/mosquitto.conf`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0;; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return broker;
    } catch (e) {
      if (i > 100) throw new Error(`mosquitto did not listen on ${port}: ${e}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Retained and live messages on `topic` (wildcards allowed) for `seconds`. */
async function subscribe(port: number, topic: string, seconds: number): Promise<string[]> {
  const out = await new Deno.Command(SUB, {
    args: ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-v", "-W", String(seconds)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
}

function direction(rate: number): DirectionNow {
  return { rateKbit: rate, throughputKbit: rate * 0.8, load: 0.8, delayMs: 3.25, thresholdMs: 15 };
}

/** A publisher to the broker on `port` with the tests' device fields; `o` sets the rest. */
function testPublisher(
  port: number,
  o: Omit<
    ConstructorParameters<typeof MqttPublisher>[0],
    "target" | "deviceName" | "version" | "logger"
  >,
): MqttPublisher {
  return new MqttPublisher({
    target: parseMqttUrl(`mqtt://127.0.0.1:${port}`),
    deviceName: "sqm-autorate wan",
    version: "0.0.0-test",
    logger: stageLogger("mqtt-test"),
    ...o,
  });
}

Deno.test({
  name:
    `mqtt against a real mosquitto: discovery, state, reconnect after a broker restart, offline on stop${
      missing ? ` (skipped: ${missing})` : ""
    }`,
  ignore: missing !== undefined,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma_mqtt_" });
  const port = freePort();
  let broker = await startBroker(dir, port);
  const now = { dl: direction(50_000), ul: direction(10_000), fresh: 5, ticks: 1 };
  const publisher = testPublisher(port, {
    source: { now },
    nodeId: "wan_test",
    intervalS: 0.2,
    initialBackoffMs: 100,
    maxBackoffMs: 400,
  });
  const topics = mqttTopics("wan_test");
  try {
    publisher.start();
    await waitUntil(() => publisher.statesSent >= 2, 10_000, "state sent");
    // Retained: discovery and availability are there for a subscriber that comes later.
    const retained = await subscribe(port, "homeassistant/sensor/wan_test/+/config", 1);
    assertEquals(
      retained.length,
      discoveryMessages({ nodeId: "wan_test", deviceName: "", version: "" }).length,
    );
    const rate = retained.find((l) =>
      l.startsWith("homeassistant/sensor/wan_test/download_rate/config ")
    );
    const config = JSON.parse(rate!.slice(rate!.indexOf(" ") + 1));
    assertEquals(config.state_topic, topics.state);
    assertEquals(config.unit_of_measurement, "Mbit/s");
    assertEquals(config.value_template, "{{ value_json.download_rate }}");
    assertEquals(config.device.identifiers, ["sqm-autorate-wan_test"]);
    assertEquals(await subscribe(port, topics.availability, 1), [`${topics.availability} online`]);
    // State: live messages with the values of the source.
    now.dl = direction(42_000);
    const states = await subscribe(port, topics.state, 1);
    assert(states.length >= 2, `state messages: ${states.join("\n")}`);
    const state = JSON.parse(states.at(-1)!.slice(topics.state.length + 1));
    assertEquals(state.download_rate, 42);
    assertEquals(state.upload_throughput, 8);
    assertEquals(state.download_load, 80);
    assertEquals(state.download_delay, 3.3);
    assertEquals(state.reflectors_fresh, 5);
    // An outage: no reflector fresh and the delays unknown; Home Assistant sees both.
    now.fresh = 0;
    now.dl = { ...direction(20_000), delayMs: NaN };
    const outage = (await subscribe(port, topics.state, 1)).map((l) =>
      JSON.parse(l.slice(topics.state.length + 1))
    ).at(-1);
    assertEquals([outage.reflectors_fresh, outage.download_delay], [0, null]);
    const fresh = retained.find((l) =>
      l.startsWith("homeassistant/sensor/wan_test/reflectors_fresh/config ")
    );
    assert(fresh !== undefined, retained.join("\n"));
    const freshConfig = JSON.parse(fresh.slice(fresh.indexOf(" ") + 1));
    assertEquals([freshConfig.name, freshConfig.unit_of_measurement], [
      "Fresh reflectors",
      undefined,
    ]);

    // Broker gone: the publisher keeps trying (no throw, no blocking); back: it reconnects.
    broker.kill("SIGTERM");
    await broker.status;
    const connects = publisher.connects;
    await new Promise((r) => setTimeout(r, 800));
    broker = await startBroker(dir, port);
    await waitUntil(() => publisher.connects > connects, 10_000, "reconnect");
    assertEquals(await subscribe(port, topics.availability, 1), [`${topics.availability} online`]);

    // Stop: availability goes offline (retained).
    await publisher.stop();
    assertEquals(await subscribe(port, topics.availability, 1), [`${topics.availability} offline`]);
  } finally {
    await publisher.stop();
    broker.kill("SIGTERM");
    await broker.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: `mqtt against a real mosquitto: the wall clock stepped back a year (NTP on a router ` +
    `without RTC) before any state: keepalive pings go on, the broker keeps the session${
      missing ? ` (skipped: ${missing})` : ""
    }`,
  ignore: missing !== undefined,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma_mqtt_" });
  const port = freePort();
  const broker = await startBroker(dir, port);
  // No tick yet (the daemon still starting): no state message keeps the connection busy.
  const now = { dl: direction(50_000), ul: direction(10_000), fresh: 0, ticks: 0 };
  const publisher = testPublisher(port, {
    source: { now },
    nodeId: "wan_step",
    intervalS: 0.2, // keepalive 30 s: the broker ends a silent session after 45 s
  });
  const topics = mqttTopics("wan_step");
  const realNow = Date.now;
  try {
    publisher.start();
    await waitUntil(() => publisher.connects === 1, 10_000, "connected");
    const availability = subscribe(port, topics.availability, 50);
    Date.now = () => realNow() - 365 * 86400_000;
    await new Promise((r) => setTimeout(r, 50_000));
    Date.now = realNow;
    assertEquals(await availability, [`${topics.availability} online`], "no will, no reconnect");
    assertEquals(publisher.connects, 1);
  } finally {
    Date.now = realNow;
    await publisher.stop();
    broker.kill("SIGTERM");
    await broker.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: `mqtt against a real mosquitto: the interval's sleep is woken by the connection's end ` +
    `through one signal per connection (no race per interval, which kept ~300 bytes each)${
      missing ? ` (skipped: ${missing})` : ""
    }`,
  ignore: missing !== undefined,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma_mqtt_" });
  const port = freePort();
  const broker = await startBroker(dir, port);
  let brokerUp = true;
  const signals: AbortSignal[] = [];
  const publisher = testPublisher(port, {
    source: { now: { dl: direction(50_000), ul: direction(10_000), fresh: 5, ticks: 1 } },
    nodeId: "wan_wake",
    intervalS: 3600, // asleep for the whole test unless woken
    sleep: (ms, signal) => {
      if (signal !== undefined) signals.push(signal);
      return realSleep(ms, signal);
    },
    initialBackoffMs: 60_000,
  });
  try {
    publisher.start();
    await waitUntil(() => publisher.statesSent === 1 && signals.length === 1, 10_000, "asleep");
    const interval = signals[0];
    assert(!interval.aborted);
    broker.kill("SIGTERM");
    await broker.status;
    brokerUp = false;
    // The broker's close wakes the sleep at once (the publisher then backs off to reconnect).
    await waitUntil(() => interval.aborted, 5_000, "the interval's sleep woken by the close");
  } finally {
    await publisher.stop();
    if (brokerUp) {
      broker.kill("SIGTERM");
      await broker.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
