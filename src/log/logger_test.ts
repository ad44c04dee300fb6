import { assert, assertEquals } from "../util/assert.ts";
import { configureLoggers, getLogger, type LogRecord, renderMessage } from "./logger.ts";

function capture(): { records: LogRecord[]; sink: (r: LogRecord) => void } {
  const records: LogRecord[] = [];
  return { records, sink: (r) => records.push(r) };
}

Deno.test("renderMessage: placeholders become the properties' values, doubled braces are literal", () => {
  assertEquals(renderMessage("setting {ifname} to {kbit} kbit/s", { ifname: "wan", kbit: 100 }), [
    "setting ",
    "wan",
    " to ",
    100,
    " kbit/s",
  ]);
  assertEquals(renderMessage("{{literal}} {x}}}", { x: 1 }), ["{literal} ", 1, "}"]);
  assertEquals(renderMessage("{missing}", {}), ["", undefined, ""]);
  assertEquals(renderMessage("no placeholders {", {}), ["no placeholders {"]);
});

Deno.test("loggers: a configured category and those below it, at its lowest level and up", () => {
  const { records, sink } = capture();
  try {
    const control = getLogger(["sqm-autorate", "control"]);
    control.info("before configuration");
    configureLoggers({
      sinks: { main: sink },
      loggers: [{ category: ["sqm-autorate"], lowestLevel: "info", sinks: ["main"] }],
    });
    let computed = 0;
    control.debug("below the level {x}", () => ({ x: ++computed }));
    control.warn("rate {kbit}", { kbit: 5 });
    getLogger(["other"]).fatal("outside the category");
    assertEquals(computed, 0, "properties of a record nobody writes are not computed");
    assertEquals(records.length, 1);
    const r = records[0];
    assertEquals([r.category, r.level, r.rawMessage], [
      ["sqm-autorate", "control"],
      "warning",
      "rate {kbit}",
    ]);
    assertEquals(r.message, ["rate ", 5, ""]);
    assertEquals(r.properties, { kbit: 5 });
    assert(Math.abs(r.timestamp - Date.now()) < 60_000, `${r.timestamp}`);
    // One logger per category, and a new configuration reaches loggers made before it.
    assert(getLogger(["sqm-autorate", "control"]) === control);
    configureLoggers({
      sinks: { main: sink },
      loggers: [{ category: ["sqm-autorate"], lowestLevel: "trace", sinks: ["main"] }],
    });
    control.trace("now {x}", () => ({ x: 1 }));
    assertEquals(records.length, 2);
    assertEquals(records[1].message, ["now ", 1, ""]);
  } finally {
    configureLoggers({ sinks: {}, loggers: [] });
  }
});
