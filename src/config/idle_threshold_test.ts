import { assert, assertEquals } from "../util/assert.ts";
import { resolveSettings } from "./resolve.ts";
import { parseUci } from "./uci.ts";

const FLAGS = { ul_if: "wan", dl_if: "ifb4wan", base_ul_rate: "10000", base_dl_rate: "50000" };
const idleWarnings = (r: { warnings: string[] }) =>
  r.warnings.filter((w) => w.startsWith("idle_threshold"));

Deno.test("resolve: an idle threshold not below the rate held while idle is warned about, naming the direction", () => {
  const r = resolveSettings({ flags: { ...FLAGS, idle_threshold: "20000" } });
  const w = idleWarnings(r);
  assertEquals(w.length, 1, r.warnings.join("\n"));
  assert(w[0].startsWith("idle_threshold (flag --idle-threshold-kbits): 20000 kbit/s"), w[0]);
  assert(w[0].includes("not below the upload's 10000 kbit/s base rate"), w[0]);
  assert(!w[0].includes("download's"), w[0]);
  // idle_rate min holds the minimum rates (20 %: upload 2000, download 10000), from the UCI file.
  const uci = parseUci(
    "config advanced_settings\n  option idle_threshold_kbits '10000'\n  option idle_rate 'min'\n",
    "/etc/config/sqm-autorate",
  );
  const both = idleWarnings(resolveSettings({ flags: FLAGS, uci }));
  assertEquals(both.length, 1);
  assert(both[0].includes("the upload's 2000 and the download's 10000 kbit/s minimum"), both[0]);
  assert(both[0].includes("/etc/config/sqm-autorate:2"), both[0]);
});

Deno.test("resolve: the default idle threshold, one under the idle rates, or idle mode off, is not warned about", () => {
  assertEquals(idleWarnings(resolveSettings({ flags: FLAGS })), []);
  // Above the minimum rates but under the base rates held while idle (idle_rate base).
  assertEquals(idleWarnings(resolveSettings({ flags: { ...FLAGS, idle_threshold: "5000" } })), []);
  const off = resolveSettings({ flags: { ...FLAGS, idle_threshold: "30000", idle_mode: "0" } });
  assertEquals(idleWarnings(off), []);
});
