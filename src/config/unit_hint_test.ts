import { assertEquals } from "../util/assert.ts";
import { ConfigError, resolveSettings } from "./resolve.ts";
import { parseUci } from "./uci.ts";
import { unitHint } from "./unit_hint.ts";

Deno.test("unit hint: rates and times typed with a unit are converted to the setting's unit", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ["20mbit", "kbit/s", "a number alone, in kbit/s: 20mbit is 20000"],
    ["100M", "kbit/s", "a number alone, in kbit/s: 100M is 100000"],
    ["20 Mbit/s", "kbit/s", "a number alone, in kbit/s: 20 Mbit/s is 20000"],
    ["1.5gbps", "kbit/s", "a number alone, in kbit/s: 1.5gbps is 1500000"],
    ["20000kbit", "kbit/s", "a number alone, in kbit/s: 20000kbit is 20000"],
    ["500ms", "s", "a number alone, in s: 500ms is 0.5"],
    ["15ms", "ms", "a number alone, in ms: 15ms is 15"],
    ["1h", "min", "a number alone, in min: 1h is 60"],
    // No hint where there is nothing to convert or no unit this knows.
    ["20,000", "kbit/s", undefined],
    ["fast", "kbit/s", undefined],
    ["20parsecs", "kbit/s", undefined],
    ["20mbit", undefined, undefined],
    ["20mbit", "%", undefined],
  ];
  for (const [raw, unit, want] of cases) assertEquals(unitHint(raw, unit), want, `${raw} ${unit}`);
});

Deno.test("unit hint: the refusal of a rate with a unit says what to write, from flag, env and UCI", () => {
  const uci = parseUci(
    [
      "config network",
      "  option upload_interface 'wan'",
      "  option download_interface 'ifb4wan'",
      "  option upload_base_kbits '20 Mbit'",
    ].join("\n"),
    "/etc/config/sqm-autorate",
  );
  let error: ConfigError | undefined;
  try {
    resolveSettings(
      {
        flags: { tick_interval: "500ms" },
        env: (name) => name === "SQMA_DOWNLOAD_BASE_KBITS" ? "100M" : undefined,
        uci,
      },
      { requireDaemon: true },
    );
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    error = e;
  }
  assertEquals(error?.message.split("\n"), [
    'base_ul_rate (/etc/config/sqm-autorate:4 (@network[0].upload_base_kbits)): "20 Mbit" is ' +
    "not an integer from 10 to 100000000 kbit/s (a number alone, in kbit/s: 20 Mbit is 20000)",
    'base_dl_rate (env SQMA_DOWNLOAD_BASE_KBITS): "100M" is not an integer from 10 to ' +
    "100000000 kbit/s (a number alone, in kbit/s: 100M is 100000)",
    'tick_interval (flag --tick-interval): "500ms" is not a number from 0.05 to 10 s ' +
    "(a number alone, in s: 500ms is 0.5)",
  ]);
});
