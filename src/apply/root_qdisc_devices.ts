/**
 * The devices whose root qdisc is of one kind (`tc -j qdisc show`, every device at once): the
 * interfaces a missing `upload_interface`/`download_interface` was probably meant to name. On
 * OpenWrt the device of the network "wan" is `eth1`, `pppoe-wan`, …, and sqm-scripts' IFB is
 * `ifb4` plus that device's name, so `ifb4wan` often does not exist (docs/operation.md, "An
 * interface name that does not exist").
 */
import { type CommandRunner, defaultCommandRunner } from "../util/command.ts";
import { jsonList } from "../util/json_list.ts";

/** Names of the devices with a root qdisc of `kind`, sorted; undefined when tc cannot tell. */
export async function rootQdiscDevices(
  kind: string,
  o: { runner?: CommandRunner } = {},
): Promise<string[] | undefined> {
  const r = await (o.runner ?? defaultCommandRunner)("tc", ["-j", "qdisc", "show"]);
  if (r.code !== 0) return undefined;
  const qdiscs = jsonList(r.stdout) as
    | ({ root?: unknown; kind?: unknown; dev?: unknown } | null)[]
    | undefined;
  if (qdiscs === undefined) return undefined;
  const devices = qdiscs
    .filter((q) => q?.root === true && q?.kind === kind && typeof q?.dev === "string")
    .map((q) => q!.dev as string);
  return [...new Set(devices)].sort();
}
