/**
 * UCI options upstream sqm-autorate read under other names before its `upload_*`/`download_*`
 * ones (its setup script renamed them in place), and options written into the wrong section: the
 * warning `check-config` and `run` print for such an option names the one to use instead
 * (docs/formats.md, "1.2 Sections and options"). Pure.
 */
import type { UciSection } from "./uci.ts";
import { DRY_RUN_HINT } from "./rust_port.ts";

/** An old option and what replaced it, by section type and option name. */
interface Renamed {
  /** Section type of the replacement. */
  readonly section: string;
  /** Option name of the replacement. */
  readonly option: string;
  /** For the old absolute minimum rates: the base rate option (old and new name) it relates to. */
  readonly percentOf?: readonly [string, string];
  /** A second option the old one stood for too (one delay threshold for both directions). */
  readonly also?: string;
  /** Whose name it was, when not upstream's Lua (e.g. "the Rust port's"). */
  readonly origin?: string;
}

/** Upstream's older option names (kbit/s minimums became percentages of the base rate). */
const RENAMED: Readonly<Record<string, Readonly<Record<string, Renamed>>>> = {
  network: {
    transmit_interface: { section: "network", option: "upload_interface" },
    receive_interface: { section: "network", option: "download_interface" },
    transmit_kbits_base: { section: "network", option: "upload_base_kbits" },
    receive_kbits_base: { section: "network", option: "download_base_kbits" },
    transmit_kbits_min: {
      section: "network",
      option: "upload_min_percent",
      percentOf: ["transmit_kbits_base", "upload_base_kbits"],
    },
    receive_kbits_min: {
      section: "network",
      option: "download_min_percent",
      percentOf: ["receive_kbits_base", "download_base_kbits"],
    },
    transmit_OWD_threshold_ms: { section: "advanced_settings", option: "upload_delay_ms" },
    receive_OWD_threshold_ms: { section: "advanced_settings", option: "download_delay_ms" },
    // The Rust port's first names of the minimum rates.
    upload_min_kbits: {
      section: "network",
      option: "upload_min_percent",
      percentOf: ["upload_base_kbits", "upload_base_kbits"],
      origin: "the Rust port's",
    },
    download_min_kbits: {
      section: "network",
      option: "download_min_percent",
      percentOf: ["download_base_kbits", "download_base_kbits"],
      origin: "the Rust port's",
    },
    reflector_type: { section: "advanced_settings", option: "reflector_type" },
    reflector_list_icmp: { section: "advanced_settings", option: "reflector_list_file" },
  },
  output: { hist_size: { section: "advanced_settings", option: "speed_hist_size" } },
  advanced_settings: {
    rtt_delta_bufferbloat: {
      section: "advanced_settings",
      option: "upload_delay_ms",
      also: "download_delay_ms",
    },
  },
};

/**
 * `option enabled` in any section: OpenWrt packages switch a service on and off that way, but
 * neither upstream nor this daemon reads it, so a '0' there would leave it shaping.
 */
const ENABLED_HINT = "sqm-autorate has no on/off option and runs whatever it says; to stop it, " +
  "`/etc/init.d/sqm-autorate stop` and `disable` (systemd: `systemctl disable --now " +
  "sqm-autorate`)";

/** Upstream's first switch for more log lines, `option verbose` in `config output`. */
const VERBOSE_HINT = "upstream's older switch for more log lines; set log_level 'DEBUG' instead";

/** The Rust port package's `option use_stdout` in `config output`. */
const USE_STDOUT_HINT = "the Rust port's; the log goes to standard error here (log_priority " +
  "stream puts DEBUG and INFO on standard output), and use_syslog '1' sends it to syslog";

function scalar(section: UciSection, option: string): number | undefined {
  const v = section.options.get(option)?.value;
  const n = typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The replacement advice for an old option name, or undefined when it is not one. */
export function renamedOptionHint(section: UciSection, option: string): string | undefined {
  if (option === "enabled") return ENABLED_HINT;
  if (section.type === "output" && option === "verbose") return VERBOSE_HINT;
  if (section.type === "output" && option === "use_stdout") return USE_STDOUT_HINT;
  if (section.type === "advanced_settings" && option === "dry_run") return DRY_RUN_HINT;
  const r = RENAMED[section.type]?.[option];
  if (r === undefined) return undefined;
  if (r.also !== undefined) {
    return `upstream's older name of "${r.option}" and "${r.also}" (one threshold for both ` +
      `directions): set both in \`config ${r.section}\``;
  }
  if (r.percentOf === undefined) {
    return r.section === section.type
      ? `upstream's older name of "${r.option}": rename it`
      : `upstream's older name of "${r.option}", read from \`config ${r.section}\`: move it ` +
        "there under that name";
  }
  const min = scalar(section, option);
  const base = scalar(section, r.percentOf[0]) ?? scalar(section, r.percentOf[1]);
  const example = min !== undefined && base !== undefined
    ? `: ${min} of ${base} kbit/s is ${r.option} '${Math.round((min / base) * 100)}'`
    : "";
  return `${
    r.origin ?? "upstream's older"
  } minimum in kbit/s; now "${r.option}", a percentage of ` +
    `${r.percentOf[1]} (1-80)${example}`;
}

/** The section type that reads `option` when it is not `sectionType` (a misplaced option). */
export function misplacedOptionHint(
  option: string,
  sectionType: string,
  known: ReadonlyMap<string, ReadonlySet<string>>,
): string | undefined {
  for (const [type, options] of known) {
    if (type !== sectionType && options.has(option)) {
      return `it is read from \`config ${type}\`: move it there`;
    }
  }
  return undefined;
}
