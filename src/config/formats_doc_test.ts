/** docs/formats.md, "1.2 Sections and options", names every UCI section type a setting is read from. */
import { assertEquals } from "../util/assert.ts";
import { SETTING_NAMES, SETTINGS_TABLE, type SettingSpec } from "./settings_table.ts";

Deno.test("docs/formats.md's section table lists every section type of the settings table", () => {
  const text = Deno.readTextFileSync(new URL("../../docs/formats.md", import.meta.url));
  const start = text.indexOf("### 1.2 Sections and options");
  const section = text.slice(start, text.indexOf("\n## ", start));
  const types = new Set(
    SETTING_NAMES.map((n) => (SETTINGS_TABLE[n] as SettingSpec).uci?.[0]).filter((t) => t),
  );
  assertEquals([...types].filter((t) => !section.includes(`| \`${t}\``)), []);
});
