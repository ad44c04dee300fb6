import { assert, assertEquals } from "../util/assert.ts";
import { privilegeRefusal, probePrivilege } from "./tc_privilege.ts";
import type { CommandRunner } from "../util/command.ts";

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

Deno.test("probePrivilege: tc's EPERM to the handle-0 change is the refusal; the kernel's EINVAL is none", async () => {
  const asked: string[] = [];
  const runner = (said: Record<string, string>): CommandRunner => (binary, args) => {
    asked.push([binary, ...args].join(" "));
    return Promise.resolve({ code: 2, stdout: "", stderr: said[args[3]] ?? "" });
  };
  // A kernel that lets the caller change qdiscs refuses the handle, before it looks for one.
  assertEquals(
    await probePrivilege(
      ["ifb4wan", "wan"],
      runner({ ifb4wan: "Error: Handle cannot be zero.", wan: "Error: Handle cannot be zero." }),
    ),
    undefined,
  );
  assertEquals(asked, [
    "tc qdisc change dev ifb4wan handle 0: pfifo",
    "tc qdisc change dev wan handle 0: pfifo",
  ]);
  const message = await probePrivilege(["ifb4wan", "wan"], runner({ ifb4wan: EPERM, wan: EPERM }));
  assert(
    message?.startsWith(`tc may not change the shaper on ifb4wan and wan (${EPERM}): run`),
    message,
  );
});
