import { acceptedText } from "./schema.ts";
import { nestedEnvName } from "./rust_port.ts";
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

/**
 * The name of a setting's flag value in help texts (`<integer>`, `[bool]`: a boolean flag may
 * stand alone), the same in `--help` and in every command's help.
 */
export function valueName(spec: SettingSpec): { name: string; optional: boolean } {
  if (spec.kind === "boolean") return { name: "bool", optional: true };
  if (spec.kind === "list") return { name: "path", optional: false };
  return { name: spec.kind === "enum" ? "choice" : spec.kind, optional: false };
}

/** How a command's help shows its settings (see `settingDetails`). */
export interface SettingDetailsOptions {
  /** The default to show instead of `defaultText` (a command that does not need the setting). */
  default?: string;
  /** Whether the command reads the `SQMA_*` variable (default true). */
  env?: boolean;
}

/** Default, accepted values, env var and UCI option of a setting, as its help shows them. */
export function settingDetails(spec: SettingSpec, options: SettingDetailsOptions = {}): string {
  const service = spec.serviceDefaultEnv === undefined
    ? ""
    : `, or ${spec.serviceDefaultEnv} below the UCI option`;
  const env = options.env === false ? "" : `env ${spec.env.join(" or ")}${service}; `;
  return `default ${options.default ?? defaultText(spec)}; ${acceptedText(spec)}; ${env}` +
    `uci ${uciText(spec)}`;
}

/**
 * Plain-text list of every setting for `--help`: flag, default, accepted, env var, UCI option;
 * `before` lists options to show first as `[label, help]` (the UCI file's `--config`).
 */
export function settingsHelpText(before: readonly (readonly [string, string])[] = []): string {
  const lines = [
    "Settings of run, check-config and show-settings (precedence: flag > env > UCI file > " +
    "default):",
    `(an option of \`config SECTION\` is also read from the Rust port's SQMA_SECTION__OPTION, ` +
    `e.g. ${nestedEnvName("network", "upload_interface")}; the env names below win)`,
    "",
  ];
  for (const [label, help] of before) lines.push(`  ${label}`, `      ${help}`);
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS_TABLE[name];
    const value = valueName(spec);
    const label = value.optional ? `[${value.name}]` : `<${value.name}>`;
    lines.push(`  ${flagsText(spec)} ${label}`);
    lines.push(`      ${spec.description}`);
    lines.push(`      ${settingDetails(spec)}`);
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
      spec.env.map((e) => `\`${e}\``).join(" ") +
      (spec.serviceDefaultEnv === undefined
        ? ""
        : ` (\`${spec.serviceDefaultEnv}\`: below the UCI option)`),
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
