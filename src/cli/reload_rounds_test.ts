import { assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { ReloadRounds } from "./reload_rounds.ts";

Deno.test("reload rounds: a re-read configuration that fails before control starts falls back", () => {
  const r = new ReloadRounds("A");
  r.reloaded("B");
  assertEquals(r.newest, "B");
  assertEquals(r.ended(ExitCode.OK), "reload");
  assertEquals(r.current, "B");
  assertEquals(r.ended(ExitCode.UNAVAILABLE), "fallback");
  assertEquals(r.current, "A");
  assertEquals(r.ended(ExitCode.UNAVAILABLE), "exit", "the one before it fails too: no loop");
});

Deno.test("reload rounds: once the re-read configuration started control, its failure ends the daemon", () => {
  const r = new ReloadRounds("A");
  r.reloaded("B");
  assertEquals(r.ended(ExitCode.OK), "reload");
  r.started();
  // Days later its interface is gone for good: the daemon exits, not back to an old file.
  assertEquals(r.ended(ExitCode.UNAVAILABLE), "exit");
  assertEquals(r.current, "B");
});

Deno.test("reload rounds: a runtime failure (1) and a plain end exit; no reload, no fallback", () => {
  const r = new ReloadRounds("A");
  r.reloaded("B");
  r.ended(ExitCode.OK);
  assertEquals(r.ended(ExitCode.FAILURE), "exit");
  assertEquals(new ReloadRounds("A").ended(ExitCode.CONFIG), "exit");
});

Deno.test("reload rounds: a configuration applied in place replaces the newest one", () => {
  const r = new ReloadRounds("A");
  r.amended("A'");
  assertEquals([r.current, r.newest], ["A'", "A'"]);
  assertEquals(r.ended(ExitCode.OK), "exit", "no restart was asked");
  r.reloaded("B");
  r.amended("B'"); // a restart under way: it runs the amended one
  assertEquals([r.current, r.newest], ["A'", "B'"]);
  assertEquals(r.ended(ExitCode.OK), "reload");
  assertEquals(r.current, "B'");
});
