import { assertEquals } from "../../src/util/assert.ts";
import { pidAlive, runSync } from "./cmd.ts";

Deno.test("pidAlive: sees a live process under the dev permission set, not an exited one", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    assertEquals(pidAlive(child.pid), true);
    assertEquals(pidAlive(Deno.pid), true);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  // A pid that just ended (its parent reaped it) is gone.
  const done = runSync(["sh", "-c", "echo $$"]);
  assertEquals(pidAlive(Number(done.stdout.trim())), false);
});
