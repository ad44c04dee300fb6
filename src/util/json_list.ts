/**
 * A command's `-j` output read as a JSON list (`tc -j qdisc show`, `ip -j link show`): the
 * callers ask one question of it, and output that is not a list (BusyBox's tools print text) is
 * the same "cannot tell" to each.
 */

/** `text` parsed when it is a JSON list; undefined when it is not JSON or not a list. */
export function jsonList(text: string): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(parsed) ? parsed : undefined;
}
