/**
 * The shipped configuration templates (packaging/openwrt/sqm-autorate.config,
 * packaging/systemd/wan.conf.example) give each base rate a value and a `# placeholder: …`
 * comment: a file whose base-rate line still carries it was not edited there, and the daemon would
 * shape a 500 Mbit/s line at the template's 10 Mbit/s without a word. Warned about at start and by
 * check-config, naming the line (docs/install.md, "Configure").
 */
import { type SettingName, specOf, type TableSettings } from "./settings_table.ts";
import { describeSource, type SettingSource } from "./sources.ts";
import { type UciFile, uciGet } from "./uci.ts";

/** How the templates' comment on a placeholder value starts (after the `#`). */
export const PLACEHOLDER_COMMENT = "placeholder";

const RATES = [
  { setting: "base_ul_rate", what: "upload" },
  { setting: "base_dl_rate", what: "download" },
] as const;

/** One warning per base rate read from a UCI line that still carries the template's comment. */
export function placeholderRateWarnings(
  v: TableSettings,
  sources: Record<SettingName, SettingSource>,
  uci: UciFile | undefined,
): string[] {
  if (uci === undefined) return [];
  return RATES.flatMap((r) => {
    const source = sources[r.setting];
    if (source.kind !== "uci") return [];
    const [section, option] = specOf(r.setting).uci ?? [];
    if (section === undefined || option === undefined) return [];
    const comment = uciGet(uci, `@${section}[0]`, option)?.comment ?? "";
    if (!comment.toLowerCase().startsWith(PLACEHOLDER_COMMENT)) return [];
    return [
      `${r.setting} (${describeSource(source)}): ${v[r.setting]} kbit/s is still the ` +
      `template's placeholder (its "# ${PLACEHOLDER_COMMENT}" comment), and the daemon shapes ` +
      `the ${r.what} at it: set your line's good-day ${r.what} capacity there and delete the ` +
      "comment",
    ];
  });
}
