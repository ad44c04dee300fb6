import { assertEquals } from "../src/util/assert.ts";
import { groupNodes } from "./_heap_diff.ts";

Deno.test("groupNodes: objects by constructor, closures by name, strings by type only, ids dropped", () => {
  // Fields: type, name, id, self_size (a real snapshot has more; the order is read from meta).
  const snap = {
    snapshot: {
      meta: {
        node_fields: ["type", "name", "id", "self_size"],
        node_types: [["hidden", "object", "closure", "string"]],
      },
    },
    strings: [
      "Map",
      "onTick",
      "hello",
      "world",
      "system / Context / scope @91087",
      "system / Context / scope @107449",
    ],
    // deno-fmt-ignore
    nodes: [
      1, 0, 1, 32, // object Map
      1, 0, 2, 48, // object Map
      2, 1, 3, 40, // closure onTick
      3, 2, 4, 20, // string "hello"
      3, 3, 5, 24, // string "world"
      1, 4, 6, 56, // a scope, named with its id
      1, 5, 7, 56, // another one
    ],
  };
  assertEquals(
    [...groupNodes(snap).entries()],
    [
      ["object:Map", { count: 2, size: 80 }],
      ["closure:onTick", { count: 1, size: 40 }],
      ["(string)", { count: 2, size: 44 }],
      ["object:system / Context / scope", { count: 2, size: 112 }],
    ],
  );
});
