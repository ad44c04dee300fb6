/**
 * The README's exit-code table lists exactly the codes of `ExitCode`, once each: a code added to
 * the program without a line there (or a line for a code the program no longer has) fails here.
 */
import { assertEquals } from "./assert.ts";
import { ExitCode } from "./exit_codes.ts";

const README = new URL("../../README.md", import.meta.url);

function readmeCodes(md: string): number[] {
  const section = md.slice(md.indexOf("### Exit codes"), md.indexOf("## Settings"));
  return [...section.matchAll(/^\| (\d+) +\|/gm)].map((m) => Number(m[1]));
}

Deno.test("README's exit-code table lists every ExitCode, once each", async () => {
  const listed = readmeCodes(await Deno.readTextFile(README));
  const codes = Object.values(ExitCode).sort((a, b) => a - b);
  assertEquals(listed, codes);
});
