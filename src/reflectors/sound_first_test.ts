import { assertEquals } from "../util/assert.ts";
import { soundFirst } from "./sound_first.ts";

Deno.test("soundFirst: preferred reflectors first, each group in its order (v72c)", () => {
  const sound = new Set(["c", "e"]);
  assertEquals(soundFirst(["a", "b", "c", "d", "e"], (ip) => sound.has(ip)), [
    "c",
    "e",
    "a",
    "b",
    "d",
  ]);
  assertEquals(soundFirst(["b", "a"], () => false), ["b", "a"]);
});
