/**
 * A start-up change `tc` refused for want of privilege (run as an ordinary user, or without
 * `CAP_NET_ADMIN`): the daemon cannot shape at all, and retrying every tick would only fill the
 * log (docs/operation.md, "Not allowed to change the shaper").
 */
/** tc's words (netlink's EPERM) when the kernel refuses a change for want of privilege. */
const REFUSED = "Operation not permitted";

/**
 * The FATAL message when a start-up change failed because `tc` refused it for want of privilege,
 * given the failed changes' errors by interface (`ControlLoop.setRates(…, { errors })`), naming
 * each refused interface in the order of `ifnames` (the map's order is which change failed first,
 * a race); undefined when none did (another cause is retried as usual).
 */
export function privilegeRefusal(
  errors: ReadonlyMap<string, string>,
  ifnames: readonly string[],
): string | undefined {
  const refused = ifnames.filter((ifname) => errors.get(ifname)?.includes(REFUSED));
  if (refused.length === 0) return undefined;
  return `tc may not change the shaper on ${refused.join(" and ")} (${errors.get(refused[0])}): ` +
    "run sqm-autorate as root or with CAP_NET_ADMIN where tc runs (docs/install.md, " +
    '"What the binary needs on the machine")';
}
