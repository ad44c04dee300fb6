// Started by engine_test.ts with `deno run -P=daemon`: proves an engine starts with the
// daemon's permissions (no read grant for the npm cache).
import { LuaSandbox } from "../engine.ts";

const sb = await LuaSandbox.create({
  timeLimitMs: 50,
  memoryLimitMb: 16,
  host: { log: () => {}, random: () => 0.5, wallMs: () => 0, section: () => undefined },
});
const [v] = sb.call(sb.load("return 6 * 7", "=probe"), [], 1);
console.log(`lua says ${v}`);
sb.close();
