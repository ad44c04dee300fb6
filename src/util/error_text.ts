/**
 * An error's message as a user should read it. Deno's permission denial ends with "run again with
 * the --allow-read flag", advice the release binary cannot follow (its permissions are compiled
 * in): that ending is replaced by where the permitted paths are listed (docs/install.md, "Paths
 * the binary may use").
 */

/** The pointer to the list of what the daemon's permission set allows. */
export const PERMISSION_SET_TEXT =
  "sqm-autorate's permission set (permissions.daemon in deno.json; docs/install.md, " +
  '"Paths the binary may use") does not allow it';

/** `e`'s message; for a permission denial, the denied access and where the allowed ones are. */
export function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof Deno.errors.NotCapable)) return message;
  const denied = message.replace(/,? run again with the --allow-\w+ flag\.?$/, "");
  return `${denied}: ${PERMISSION_SET_TEXT}`;
}
