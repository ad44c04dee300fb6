import { assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { simPingerKind } from "./pinger_kind.ts";

Deno.test("pinger kind: auto is a typical install's fping 5.1 (RTT only); tsping gives OWD", () => {
  const kind = (pinger: "auto" | "tsping" | "fping" | "ping", type = "icmp-timestamps") =>
    simPingerKind(
      settingsWithDefaults({ pinger, measurement_type: type as "icmp" | "icmp-timestamps" }),
    );
  assertEquals(kind("auto"), { tool: "fping", mode: "echo" });
  assertEquals(kind("fping"), { tool: "fping", mode: "echo" });
  assertEquals(kind("ping"), { tool: "ping", mode: "echo" });
  assertEquals(kind("tsping"), { tool: "tsping", mode: "timestamp" });
  assertEquals(kind("tsping", "icmp"), { tool: "tsping", mode: "echo" });
});
