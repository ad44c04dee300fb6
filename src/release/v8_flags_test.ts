import { assert, assertEquals } from "../util/assert.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { DAEMON_V8_FLAGS, v8FlagsArg } from "./v8_flags.ts";

Deno.test("V8 flags: the daemon task runs the release permission set with the release flags", () => {
  const task: string = denoJson.tasks.daemon;
  const words = task.split(/\s+/);
  assert(words.includes("-P=daemon"), task);
  assertEquals(words.filter((w) => w.startsWith("--v8-flags=")), [v8FlagsArg()]);
  assert(
    DAEMON_V8_FLAGS.every((f) => /^--[a-z0-9-]+(=[0-9a-z]+)?$/.test(f)),
    DAEMON_V8_FLAGS.join(),
  );
});

Deno.test("V8 flags: the release exposes gc(), which the daemon's heap trim needs", () => {
  // Without it src/daemon/heap_trim.ts does nothing and the peak RSS under a long load grows
  // by about 8 MB (docs/footprint.md, "Long runs under load").
  assert(DAEMON_V8_FLAGS.includes("--expose-gc"), DAEMON_V8_FLAGS.join());
});
