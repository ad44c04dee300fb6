import { assertEquals } from "../util/assert.ts";
import { SetAsideLevel } from "./set_aside_level.ts";

Deno.test("set-aside level: given back once, restoreS after it was set aside and after the last queue", () => {
  const a = new SetAsideLevel();
  a.setAside(100, 5000);
  assertEquals(a.restore(101.5, 99), undefined, "1.5 s after it was set aside");
  assertEquals(a.restore(102.5, 101), undefined, "1.5 s after the last queue");
  assertEquals(a.restore(103.1, 101), 5000, "2 s after both");
  assertEquals(a.restore(110, 101), undefined, "once");
});

Deno.test("set-aside level: the higher of two set aside, counted from the later", () => {
  const a = new SetAsideLevel();
  a.setAside(100, 5000);
  a.setAside(101, 4000);
  assertEquals(a.restore(102.5, 99), undefined);
  assertEquals(a.restore(103.1, 99), 5000);
});

Deno.test("set-aside level: restoreS 0 turns the rule off", () => {
  const a = new SetAsideLevel({ restoreS: 0 });
  assertEquals(a.enabled, false);
  a.setAside(100, 5000);
  assertEquals(a.restore(200, 0), undefined);
});
