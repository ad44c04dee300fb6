import { assert, assertEquals } from "../../src/util/assert.ts";
import { defaultValue } from "../../src/config/defaults.ts";
import { challenger } from "./challenger.ts";

Deno.test("sim:e2e without --controller sets the e2e suite's challenger against EWMA, never EWMA twice", async () => {
  const script = new URL("../../scripts/sim_vs_testbed.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=dev", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const rows = text.split("\n").filter((l) => /^sim {2,}\S/.test(l) && /\d\s*$/.test(l))
    .map((l) => l.split(/\s{2,}/)[1]);
  const def = String(defaultValue("rate_controller"));
  const first = challenger(def) === "default" ? `default (${def})` : challenger(def);
  assertEquals(rows.slice(0, 2), [first, "ewma"], text);
  assert(first !== "ewma" && first !== "default (ewma)", text);
});
