import { assertEquals } from "../src/util/assert.ts";
import { groupNodes } from "./_heap_diff.ts";

Deno.test("groupNodes: objects by constructor, closures by name, strings by type only", () => {
  // Fields: type, name, id, self_size (a real snapshot has more; the order is read from meta).
  const snap = {
    snapshot: {
      meta: {
        node_fields: ["type", "name", "id", "self_size"],
        node_types: [["hidden", "object", "closure", "string"]],
      },
    },
    strings: ["Map", "onTick", "hello", "world"],
    nodes: [
      1,
      0,
      1,
      32, // object Map
      1,
      0,
      2,
      48, // object Map
      2,
      1,
      3,
      40, // closure onTick
      3,
      2,
      4,
      20, // string "hello"
      3,
      3,
      5,
      24, // string "world"
    ],
  };
  assertEquals(
    [...groupNodes(snap).entries()],
    [
      ["object:Map", { count: 2, size: 80 }],
      ["closure:onTick", { count: 1, size: 40 }],
      ["(string)", { count: 2, size: 44 }],
    ],
  );
});
