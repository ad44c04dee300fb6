import { assertEquals } from "./assert.ts";
import { errorText, PERMISSION_SET_TEXT } from "./error_text.ts";

Deno.test("errorText: a permission denial names the permission set instead of a flag", () => {
  const denied = new Deno.errors.NotCapable(
    'Requires read access to "/root/r.csv", run again with the --allow-read flag',
  );
  assertEquals(errorText(denied), `Requires read access to "/root/r.csv": ${PERMISSION_SET_TEXT}`);
  assertEquals(errorText(new Error("No such file")), "No such file");
  assertEquals(errorText("text"), "text");
});
