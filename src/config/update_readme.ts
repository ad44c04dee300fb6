/**
 * Regenerates the settings table in README.md from the settings table (`deno task readme`).
 * A test fails when the README is out of date.
 */
import { README_TABLE_BEGIN, README_TABLE_END, settingsMarkdownTable } from "./help.ts";

/** Returns `readme` with the generated table between the markers. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(README_TABLE_BEGIN);
  const end = readme.indexOf(README_TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md lacks the ${README_TABLE_BEGIN} … ${README_TABLE_END} markers`);
  }
  return readme.slice(0, start + README_TABLE_BEGIN.length) + "\n" + settingsMarkdownTable() +
    "\n" + readme.slice(end);
}

if (import.meta.main) {
  const path = new URL("../../README.md", import.meta.url);
  const before = Deno.readTextFileSync(path);
  const after = withSettingsTable(before);
  if (after !== before) Deno.writeTextFileSync(path, after);
  console.log(after === before ? "README.md settings table is current" : "README.md updated");
}
