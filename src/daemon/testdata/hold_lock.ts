/** Test helper: takes the interface lock in `Deno.args[0]` for `Deno.args[1]`, then waits. */
import { acquireInstanceLock } from "../instance_lock.ts";

await acquireInstanceLock(Deno.args[0], { interfaces: [Deno.args[1]] });
console.log("locked");
setInterval(() => {}, 60_000); // keeps the process (and the lock) alive until killed
