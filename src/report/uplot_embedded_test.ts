import { assertEquals } from "../util/assert.ts";
import { renderUplotModule, uplotFiles } from "./gen_uplot.ts";

Deno.test("uplot_embedded.ts is up to date with the pinned npm package (run deno task gen:uplot)", async () => {
  const current = await Deno.readTextFile(new URL("./uplot_embedded.ts", import.meta.url));
  assertEquals(current === renderUplotModule(uplotFiles()), true);
});
