import { assertEquals } from "../util/assert.ts";
import { resolveSettings } from "./resolve.ts";
import { parseUci } from "./uci.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The warnings of resolving `text` as the file `path`. */
function warnings(text: string, path: string): string[] {
  return resolveSettings({ uci: parseUci(text, path) }, { requireDaemon: true }).warnings;
}

Deno.test("placeholder rates: the shipped templates' base rates, unedited, are warned about with FILE:LINE and the setting", () => {
  // Before, a daemon started on the template's 10000/10000 shaped at them without a word.
  for (
    const [file, ul, dl] of [["openwrt/sqm-autorate.config", 10000, 10000], [
      "systemd/wan.conf.example",
      20000,
      100000,
    ]] as const
  ) {
    const path = `${ROOT}packaging/${file}`;
    const text = Deno.readTextFileSync(path);
    const line = (option: string) =>
      text.split("\n").findIndex((l) => l.includes(`option ${option} `)) + 1;
    const got = warnings(text, path).filter((w) => w.includes("placeholder"));
    assertEquals(got, [
      `base_ul_rate (${path}:${line("upload_base_kbits")} (@network[0].upload_base_kbits)): ` +
      `${ul} kbit/s is still the template's placeholder (its "# placeholder" comment), and the ` +
      "daemon shapes the upload at it: set your line's good-day upload capacity there and delete " +
      "the comment",
      `base_dl_rate (${path}:${line("download_base_kbits")} (@network[0].download_base_kbits)): ` +
      `${dl} kbit/s is still the template's placeholder (its "# placeholder" comment), and the ` +
      "daemon shapes the download at it: set your line's good-day download capacity there and " +
      "delete the comment",
    ], file);
  }
});

Deno.test("placeholder rates: an edited line (comment gone, as `uci set` leaves it), or the same value set elsewhere, is not", () => {
  const file = (upload: string) =>
    [
      "config network",
      "\toption upload_interface 'wan'",
      "\toption download_interface 'ifb4wan'",
      upload,
      "\toption download_base_kbits '10000'  # my line really is 10 Mbit/s",
    ].join("\n");
  const placeholder = (ws: string[]) => ws.filter((w) => w.includes("placeholder"));
  assertEquals(placeholder(warnings(file("\toption upload_base_kbits '10000'"), "/f")), []);
  assertEquals(
    placeholder(warnings(file("\toption upload_base_kbits '10000' # Placeholder: x"), "/f")).length,
    1,
  );
  // A flag or SQMA_* over the placeholder line: that value is the one used.
  const r = resolveSettings({
    uci: parseUci(file("\toption upload_base_kbits '10000' # placeholder"), "/f"),
    env: (n) => n === "SQMA_UPLOAD_BASE_KBITS" ? "50000" : undefined,
  }, { requireDaemon: true });
  assertEquals(placeholder(r.warnings), []);
});
