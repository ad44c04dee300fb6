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

Deno.test("load plans: day has idle nights, bursts, a download and saturated hours, and repeats", () => {
  const nominal = { down: 10_000, up: 2_000 };
  const day = loadPlan("day", { durationS: 2 * 86_400, seed: 1, nominal });
  const down = new ScheduleCursor(day.down);
  const up = new ScheduleCursor(day.up);
  const onShare = (c: ScheduleCursor, fromH: number, toH: number) => {
    let on = 0, n = 0;
    for (let t = fromH * 3600; t < toH * 3600; t += 1, n++) if (c.at(t)) on++;
    return on / n;
  };
  // Each cursor walks forward, so the hours are taken in order.
  const hours = [[0, 7], [7, 9], [9, 12], [13, 14], [18, 19], [22, 23], [23, 24], [24, 31], [
    37,
    38,
  ]];
  const want = [0, -1, 0, 1, 1, 1, 0, 0, 1]; // -1: bursts, on between 40 % and 80 %
  const wantUp = [0, -1, 0, 1, 0, 1, 0, 0, 1];
  hours.forEach(([a, b], i) => {
    for (const [c, w, dir] of [[down, want[i], "down"], [up, wantUp[i], "up"]] as const) {
      const share = onShare(c, a, b);
      if (w === -1) assert(share > 0.4 && share < 0.8, `${dir} ${a}-${b} h bursty: on ${share}`);
      else assertEquals(share, w, `${dir} ${a}-${b} h`);
    }
  });
  // A saturated hour is one load period (with the last burst before it, if that touches it).
  const sat = day.down.filter((s) => s.start <= 13.5 * 3600 && s.end > 13.5 * 3600);
  assertEquals(sat.length, 1);
  assertEquals(sat[0].end, 14 * 3600);
  assert(sat[0].start <= 13 * 3600 && sat[0].start > 12.99 * 3600);
  // A shorter run stops at its end.
  const short = loadPlan("day", { durationS: 7.5 * 3600, seed: 1, nominal });
  assert(short.down.length > 0 && short.down.every((s) => s.end <= 7.5 * 3600));
});
