import { assertEquals } from "../util/assert.ts";
import { resolveSettings } from "./resolve.ts";
import { parseUci } from "./uci.ts";

function warningsOf(network: string[], flags: Record<string, string> = {}): string[] {
  const uci = parseUci(
    ["config network", "  option upload_interface 'wan'", "  option download_interface 'ifb4wan'"]
      .concat(network).join("\n"),
    "/etc/config/sqm-autorate",
  );
  // A base rate under the default idle threshold is also warned about (idle_threshold_test.ts).
  return resolveSettings({ flags, uci }, { requireDaemon: true }).warnings
    .filter((w) => !w.startsWith("idle_threshold"));
}

Deno.test("rate units: a line's Mbit/s typed as kbit/s is warned about, naming FILE:LINE and the fix", () => {
  assertEquals(
    warningsOf(["  option upload_base_kbits '20'", "  option download_base_kbits '100'"]),
    [
      "base_ul_rate (/etc/config/sqm-autorate:4 (@network[0].upload_base_kbits)): 20 kbit/s is " +
      "0.02 Mbit/s, and the rate will stay at or below 200 kbit/s; upload_base_kbits is in " +
      "kbit/s, so a 20 Mbit/s line is 20000",
      "base_dl_rate (/etc/config/sqm-autorate:5 (@network[0].download_base_kbits)): 100 kbit/s " +
      "is 0.1 Mbit/s, and the rate will stay at or below 1000 kbit/s; download_base_kbits is " +
      "in kbit/s, so a 100 Mbit/s line is 100000",
    ],
  );
});

Deno.test("rate units: the ceiling named is the max setting when one is set", () => {
  const [w] = warningsOf(
    ["  option upload_base_kbits '512'", "  option download_base_kbits '8000'"],
    { max_ul_rate: "600" },
  );
  assertEquals(
    w,
    "base_ul_rate (/etc/config/sqm-autorate:4 (@network[0].upload_base_kbits)): 512 kbit/s is " +
      "0.512 Mbit/s, and the rate will stay at or below 600 kbit/s; upload_base_kbits is in " +
      "kbit/s, so a 512 Mbit/s line is 512000",
  );
});

Deno.test("rate units: 1000 kbit/s and more is not warned about", () => {
  assertEquals(
    warningsOf(["  option upload_base_kbits '1000'", "  option download_base_kbits '100000'"]),
    [],
  );
});
