import { assertEquals } from "./assert.ts";
import { jsonList } from "./json_list.ts";

Deno.test("jsonList: a JSON list is given back; text, an object or a number are not a list", () => {
  assertEquals(jsonList('[{"kind":"htb","root":true}]'), [{ kind: "htb", root: true }]);
  assertEquals(jsonList("[]"), []);
  assertEquals(jsonList("qdisc htb 1: root refcnt 2"), undefined);
  assertEquals(jsonList('{"kind":"htb"}'), undefined);
  assertEquals(jsonList("7"), undefined);
  assertEquals(jsonList(""), undefined);
});
