import { acceptedText } from "./schema.ts";
import { SETTING_NAMES, SETTINGS_TABLE, type SettingSpec } from "./settings_table.ts";

/** The default as shown in help and README. */
export function defaultText(spec: SettingSpec): string {
  const d = spec.default;
  if (Array.isArray(d)) return d.length ? d.join(",") : "(none)";
  if (spec.required) return "(required)";
  if (d === "") return "(empty)";
  return String(d);
}

/** The `--flag` with upstream's aliases, e.g. `--upload-interface, --ul`. */
export function flagsText(spec: SettingSpec): string {
  return [spec.flag, ...(spec.aliases ?? [])].map((f) => `--${f}`).join(", ");
}

/** The UCI address of a setting, e.g. `@network[0].upload_interface`. */
export function uciText(spec: SettingSpec): string {
  return spec.uci ? `@${spec.uci[0]}[0].${spec.uci[1]}` : "–";
}

/** Plain-text list of every setting for `--help`: flag, default, env var, UCI option. */
export function settingsHelpText(): string {
  const lines = ["Settings (precedence: flag > env > UCI file > default):", ""];
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS_TABLE[name];
    lines.push(`  ${flagsText(spec)} <${spec.kind}>`);
    lines.push(`      ${spec.description}`);
    lines.push(
      `      default ${defaultText(spec)}; env ${spec.env.join(" or ")}; uci ${uciText(spec)}; ` +
        `${acceptedText(spec)}`,
    );
  }
  return lines.join("\n");
}

/** The README's settings table (Markdown), generated from the table. */
export function settingsMarkdownTable(): string {
  const rows = [
    "| setting | CLI flag | env var | UCI option | default | accepted | description |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS_TABLE[name];
    const cells = [
      `\`${name}\``,
      flagsText(spec).split(", ").map((f) => `\`${f}\``).join(" "),
      spec.env.map((e) => `\`${e}\``).join(" "),
      `\`${uciText(spec)}\``,
      `\`${defaultText(spec)}\``,
      acceptedText(spec),
      spec.description,
    ];
    rows.push(`| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  return rows.join("\n");
}

/** Markers around the generated table in README.md. */
export const README_TABLE_BEGIN = "<!-- settings-table:begin -->";
/** End marker. */
export const README_TABLE_END = "<!-- settings-table:end -->";
