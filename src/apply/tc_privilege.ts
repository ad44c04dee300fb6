/**
 * `tc` refused a change for want of privilege (run as an ordinary user, or without
 * `CAP_NET_ADMIN`): the daemon cannot shape at all. At start-up it stops at once rather than retry
 * every tick; `check-config` asks the same of the kernel without changing anything
 * (docs/operation.md, "Not allowed to change the shaper").
 */
import { type CommandRunner, defaultCommandRunner } from "../util/command.ts";

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

/**
 * The change that asks without changing: the kernel checks `CAP_NET_ADMIN` before it reads a
 * qdisc change, then refuses a handle of 0 without a parent ("Handle cannot be zero") before it
 * looks up any qdisc, so the answer is EPERM or EINVAL and nothing is ever made
 * (docs/operation.md, "Not allowed to change the shaper").
 */
export function privilegeProbeArgs(ifname: string): string[] {
  return ["qdisc", "change", "dev", ifname, "handle", "0:", "pfifo"];
}

/**
 * `privilegeRefusal` for the interfaces given, asked of `tc` with `privilegeProbeArgs` (through
 * `runner`: locally, or over ssh on the router): what `run`'s first change would end with, or
 * undefined when tc may change them (or failed for another reason, which `run` retries).
 */
export async function probePrivilege(
  ifnames: readonly string[],
  runner: CommandRunner = defaultCommandRunner,
): Promise<string | undefined> {
  const errors = new Map<string, string>();
  for (const ifname of ifnames) {
    const r = await runner("tc", privilegeProbeArgs(ifname));
    const said = r.stderr.trim().split("\n").find((l) => l.includes(REFUSED));
    if (said !== undefined) errors.set(ifname, said.trim());
  }
  return privilegeRefusal(errors, ifnames);
}
