import { assertEquals, assertThrows } from "../../src/util/assert.ts";
import { capacityAt, loadTrace } from "../../src/sim/trace.ts";
import { namedSchedule, SCHEDULE_NAMES, scheduleName } from "./setup.ts";

for (const name of SCHEDULE_NAMES) {
  Deno.test(`the ${name} schedule's trace is the testbed's capacity schedule`, async () => {
    const { schedule: s, trace: path } = namedSchedule(name, { streams: 8, twoWay: false });
    const trace = await loadTrace(path, { durationS: s.loadS, seed: 1 });
    const at = (dir: "down" | "up", t: number) => capacityAt(trace, dir, t);
    const { stepDownAtS: down, stepUpAtS: up } = s;
    for (
      const [dir, hi, lo] of [["down", s.highDownKbit, s.lowDownKbit], [
        "up",
        s.upKbit,
        s.lowUpKbit,
      ]] as const
    ) {
      assertEquals(at(dir, 0), hi);
      assertEquals(at(dir, down - 0.05), hi);
      assertEquals(at(dir, down + 0.05), lo);
      assertEquals(at(dir, up - 0.05), lo);
      assertEquals(at(dir, up + 0.05), hi);
      assertEquals(at(dir, s.loadS - 0.05), hi);
    }
  });
}

Deno.test("the upload-step schedule steps only the upload and loads both directions", () => {
  const { schedule: s } = namedSchedule("upload-step", { streams: 8, twoWay: false });
  assertEquals(s.lowDownKbit, s.highDownKbit);
  assertEquals(s.lowUpKbit < s.upKbit, true);
  assertEquals(s.twoWay, true);
  const d = namedSchedule("download-step", { streams: 8, twoWay: false }).schedule;
  assertEquals([d.lowUpKbit, d.twoWay], [d.upKbit, false]);
});

Deno.test("the fast-step schedule is download-step at ten times the rates", () => {
  const d = namedSchedule("download-step", { streams: 8, twoWay: false }).schedule;
  const f = namedSchedule("fast-step", { streams: 8, twoWay: false }).schedule;
  assertEquals(
    [f.highDownKbit, f.lowDownKbit, f.upKbit, f.lowUpKbit],
    [d.highDownKbit, d.lowDownKbit, d.upKbit, d.lowUpKbit].map((k) => 10 * k),
  );
  assertEquals({ ...f, highDownKbit: 0, lowDownKbit: 0, upKbit: 0, lowUpKbit: 0 }, {
    ...d,
    highDownKbit: 0,
    lowDownKbit: 0,
    upKbit: 0,
    lowUpKbit: 0,
  });
  assertEquals(namedSchedule("fast-step", { streams: 8, twoWay: true }).schedule.twoWay, true);
});

Deno.test("SQMA_E2E_SCHEDULE: the default, a name, and an unknown name", () => {
  assertEquals(scheduleName(undefined), "download-step");
  assertEquals(scheduleName("upload-step"), "upload-step");
  assertEquals(scheduleName("fast-step"), "fast-step");
  assertThrows(() => scheduleName("up"), Error);
});
