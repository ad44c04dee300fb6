import { assert, assertEquals } from "../util/assert.ts";
import { loadPlan, ScheduleCursor } from "./load.ts";

Deno.test("load plans: saturate, idle, bursty and mixed schedules", () => {
  const nominal = { down: 10_000, up: 2_000 };
  const sat = loadPlan("saturate", { durationS: 60, seed: 1, nominal });
  assertEquals(new ScheduleCursor(sat.down).at(59.9)?.kind, "tcp");
  assertEquals(loadPlan("idle", { durationS: 60, seed: 1, nominal }).down.length, 0);
  const bursty = loadPlan("bursty", { durationS: 120, seed: 1, nominal });
  let on = 0;
  const c = new ScheduleCursor(bursty.down);
  for (let t = 0; t < 120; t += 0.1) if (c.at(t)) on++;
  assert(on > 400 && on < 1000, `bursty on ${on / 10} s`);
  const mixed = loadPlan("mixed", { durationS: 100, seed: 1, nominal });
  const up = new ScheduleCursor(mixed.up);
  assertEquals(up.at(5), undefined);
  assertEquals(up.at(20)?.kind, "constant");
  assertEquals(up.at(20)?.rateKbit, 400);
  assertEquals(up.at(60)?.kind, "tcp");
});
