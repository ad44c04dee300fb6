import { assertEquals } from "../../src/util/assert.ts";
import { capacityAt, loadTrace } from "../../src/sim/trace.ts";
import { SCHEDULE } from "./setup.ts";

const TRACE = new URL("../../data/traces/e2e.csv", import.meta.url).pathname;

Deno.test("data/traces/e2e.csv is the testbed's capacity schedule", async () => {
  const trace = await loadTrace(TRACE, { durationS: SCHEDULE.loadS, seed: 1 });
  const at = (dir: "down" | "up", t: number) => capacityAt(trace, dir, t);
  const { stepDownAtS: down, stepUpAtS: up } = SCHEDULE;
  assertEquals(at("down", 0), SCHEDULE.highDownKbit);
  assertEquals(at("down", down - 0.05), SCHEDULE.highDownKbit);
  assertEquals(at("down", down + 0.05), SCHEDULE.lowDownKbit);
  assertEquals(at("down", up - 0.05), SCHEDULE.lowDownKbit);
  assertEquals(at("down", up + 0.05), SCHEDULE.highDownKbit);
  assertEquals(at("down", SCHEDULE.loadS - 0.05), SCHEDULE.highDownKbit);
  for (const t of [0, down + 1, up + 1]) assertEquals(at("up", t), SCHEDULE.upKbit);
});
