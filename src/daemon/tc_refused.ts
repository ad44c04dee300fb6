/**
 * A start-up change `tc` refused for want of privilege (run as an ordinary user, or without
 * `CAP_NET_ADMIN`): the daemon cannot shape at all, and retrying every tick would only fill the
 * log (docs/operation.md, "Not allowed to change the shaper").
 */
import type { Shaper } from "../control/ports.ts";

/** tc's words (netlink's EPERM) when the kernel refuses a change for want of privilege. */
const REFUSED = "Operation not permitted";

/**
 * After the start-up minimum rates were asked (`applied`: which directions were set), asks each
 * failed shaper once more and returns the FATAL message when `tc` refused it for want of
 * privilege; undefined when both were set or a failure had another cause (retried as usual).
 */
export async function privilegeRefusal(
  shapers: { dl: Shaper; ul: Shaper },
  start: { applied: { dl: boolean; ul: boolean }; dlKbit: number; ulKbit: number },
): Promise<string | undefined> {
  const failed = [
    ...(start.applied.dl ? [] : [{ shaper: shapers.dl, kbit: start.dlKbit }]),
    ...(start.applied.ul ? [] : [{ shaper: shapers.ul, kbit: start.ulKbit }]),
  ];
  for (const { shaper, kbit } of failed) {
    try {
      await shaper.setRate(kbit);
    } catch (e) {
      const said = ((e as { stderr?: string }).stderr || (e as Error)?.message || String(e)).trim();
      if (!said.includes(REFUSED)) continue;
      return `tc may not change the shaper on ${shaper.ifname} (${said.replaceAll("\n", " ")}): ` +
        "run sqm-autorate as root or with CAP_NET_ADMIN where tc runs (docs/install.md, " +
        '"What the binary needs on the machine")';
    }
  }
  return undefined;
}
