import { assert, assertEquals } from "../util/assert.ts";
import { privilegeRefusal } from "./tc_refused.ts";

const EPERM = "RTNETLINK answers: Operation not permitted";

Deno.test("privilegeRefusal names the refused interfaces in the given order, not the map's", () => {
  // The upload's change failed first (the map's order is a race between the two tc runs).
  const errors = new Map([["wan", EPERM], ["ifb4wan", EPERM]]);
  const message = privilegeRefusal(errors, ["ifb4wan", "wan"]);
  assert(
    message?.startsWith(`tc may not change the shaper on ifb4wan and wan (${EPERM})`),
    message,
  );
});

Deno.test("privilegeRefusal: another failure is no refusal; one refused interface is named", () => {
  assertEquals(
    privilegeRefusal(new Map([["wan", "Cannot find device"]]), ["ifb4wan", "wan"]),
    undefined,
  );
  const message = privilegeRefusal(
    new Map([["wan", "Cannot find device"], ["ifb4wan", EPERM]]),
    ["ifb4wan", "wan"],
  );
  assert(message?.startsWith(`tc may not change the shaper on ifb4wan (${EPERM}):`), message);
});
