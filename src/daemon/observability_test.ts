import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { Measurement } from "../measure/mod.ts";
import { Telemetry } from "../report/telemetry.ts";
import { stageLogger } from "../log/mod.ts";
import { daemonTelemetry, startObservability, telemetryRead } from "./observability.ts";

/** The part of a measurement the telemetry reads (its views are asked only at read time). */
const measurement = { owd: createOwdState() } as unknown as Measurement;

Deno.test("no telemetry is fed when neither a listener nor MQTT reads it", async () => {
  const settings = settingsWithDefaults();
  assertEquals(telemetryRead(settings), false);
  const telemetry = daemonTelemetry(settings, { measurement });
  assertEquals(telemetry, undefined);
  const o = await startObservability(settings, {
    telemetry,
    logger: stageLogger("report"),
    version: "test",
  });
  // No observer: the control loop builds no tick event for nobody (docs/footprint.md,
  // "Twenty-second session").
  assertEquals(o.observers.length, 0);
  assertEquals(o.usesThread, false);
  await o.stop();
});

Deno.test("the telemetry is fed when a listener or MQTT is configured", () => {
  for (
    const over of [{ metrics_listen: "127.0.0.1:9101" }, { mqtt_url: "mqtt://192.0.2.1:1883" }]
  ) {
    const settings = { ...settingsWithDefaults(), ...over };
    assertEquals(telemetryRead(settings), true);
    assert(daemonTelemetry(settings, { measurement }) instanceof Telemetry);
  }
});
