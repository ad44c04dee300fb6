import { assertEquals } from "../util/assert.ts";
import { withSettingsTable } from "./update_readme.ts";
import { SETTING_NAMES } from "./settings_table.ts";

Deno.test("README settings table is generated from the settings table and current", () => {
  const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  assertEquals(readme, withSettingsTable(readme), "README.md is stale: run `deno task readme`");
  for (const name of SETTING_NAMES) {
    assertEquals(readme.includes(`| \`${name}\` |`), true, `${name} missing from README`);
  }
});
