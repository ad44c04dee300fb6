/**
 * THE settings table: the single source of truth for every setting. The zod schema, the CLI
 * options, the env and UCI lookups, `--help` and the README's settings table are derived from it.
 *
 * Names are upstream's internal names (README, settings table). UCI options are read from the first
 * section of the given type (`@type[0].option`), as upstream does.
 */

/** The kinds of value a setting can hold. */
export type SettingKind = "string" | "path" | "number" | "integer" | "boolean" | "enum" | "list";

/** One row of the settings table. */
export interface SettingSpec {
  /** Value type. */
  readonly kind: SettingKind;
  /** Default value; `""`/`0` mean "unset" for settings marked `required`. */
  readonly default: string | number | boolean | readonly string[];
  /** The daemon cannot run without an explicit value. */
  readonly required?: boolean;
  /** Inclusive lower bound (numbers). */
  readonly min?: number;
  /** Inclusive upper bound (numbers). */
  readonly max?: number;
  /** Out-of-range values are clamped with a warning (upstream behaviour) instead of rejected. */
  readonly clamp?: boolean;
  /** The form a `string` must have, and how it is said (`htb_classid`'s `MAJ:MIN`). */
  readonly pattern?: { readonly re: RegExp; readonly text: string };
  /** Allowed values for `enum`. */
  readonly choices?: readonly string[];
  /** Other spellings of choices that are read as them (the Rust port's `icmp_timestamps`). */
  readonly choiceAliases?: Readonly<Record<string, string>>;
  /** Upper-case the value before checking the choices. */
  readonly upperCase?: boolean;
  /** Environment variables; the first is the documented one, later ones are accepted aliases. */
  readonly env: readonly string[];
  /** UCI section type and option (`@section[0].option`). */
  readonly uci?: readonly [section: string, option: string];
  /**
   * An environment variable a service file sets instead of the built-in default: below the UCI
   * file, so the owner's setting there wins (docs/operation.md, "Log priority").
   */
  readonly serviceDefaultEnv?: string;
  /** Long CLI flag without dashes. */
  readonly flag: string;
  /** Upstream's extra long aliases without dashes (e.g. `ul` for `--ul`). */
  readonly aliases?: readonly string[];
  /** Unit shown in help. */
  readonly unit?: string;
  /** One-line description. */
  readonly description: string;
}

import { DELTA_OWD_BOUNDS_MS } from "./threshold_bounds.ts";

const LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;

/** Every setting, keyed by upstream's internal name. Order is the order of `--help`. */
export const SETTINGS_TABLE = {
  // --- network (upstream) ---
  ul_if: {
    kind: "string",
    default: "",
    required: true,
    env: ["SQMA_UPLOAD_INTERFACE"],
    uci: ["network", "upload_interface"],
    flag: "upload-interface",
    aliases: ["ul"],
    description: "Interface whose root qdisc shapes upload (e.g. wan).",
  },
  dl_if: {
    kind: "string",
    default: "",
    required: true,
    env: ["SQMA_DOWNLOAD_INTERFACE"],
    uci: ["network", "download_interface"],
    flag: "download-interface",
    aliases: ["dl"],
    description: "Interface whose root qdisc shapes download (e.g. ifb4wan).",
  },
  base_ul_rate: {
    kind: "integer",
    default: 0,
    required: true,
    min: 10,
    max: 100_000_000,
    env: ["SQMA_UPLOAD_BASE_KBITS"],
    uci: ["network", "upload_base_kbits"],
    flag: "upload-base-kbits",
    aliases: ["ub"],
    unit: "kbit/s",
    description: "Expected good-day upload capacity (floored to an integer).",
  },
  base_dl_rate: {
    kind: "integer",
    default: 0,
    required: true,
    min: 10,
    max: 100_000_000,
    env: ["SQMA_DOWNLOAD_BASE_KBITS"],
    uci: ["network", "download_base_kbits"],
    flag: "download-base-kbits",
    aliases: ["db"],
    unit: "kbit/s",
    description: "Expected good-day download capacity (floored to an integer).",
  },
  ul_min_percent: {
    kind: "number",
    default: 20,
    min: 1,
    max: 80,
    clamp: true,
    env: ["SQMA_UPLOAD_MIN_PERCENT"],
    uci: ["network", "upload_min_percent"],
    flag: "upload-min-percent",
    aliases: ["up"],
    unit: "%",
    description: "Minimum upload rate as a percentage of the base rate.",
  },
  dl_min_percent: {
    kind: "number",
    default: 20,
    min: 1,
    max: 80,
    clamp: true,
    env: ["SQMA_DOWNLOAD_MIN_PERCENT"],
    uci: ["network", "download_min_percent"],
    flag: "download-min-percent",
    aliases: ["dp"],
    unit: "%",
    description: "Minimum download rate as a percentage of the base rate.",
  },
  max_ul_rate: {
    kind: "integer",
    default: 0,
    min: 0,
    max: 100_000_000,
    env: ["SQMA_UPLOAD_MAX_KBITS"],
    uci: ["network", "upload_max_kbits"],
    flag: "upload-max-kbits",
    unit: "kbit/s",
    description: "Cap on the upload rate (0 = 10 x the base rate; see docs/rate_bounds.md).",
  },
  max_dl_rate: {
    kind: "integer",
    default: 0,
    min: 0,
    max: 100_000_000,
    env: ["SQMA_DOWNLOAD_MAX_KBITS"],
    uci: ["network", "download_max_kbits"],
    flag: "download-max-kbits",
    unit: "kbit/s",
    description: "Cap on the download rate (0 = 10 x the base rate; see docs/rate_bounds.md).",
  },
  // --- output (upstream) ---
  log_level: {
    kind: "enum",
    default: "INFO",
    choices: LOG_LEVELS,
    upperCase: true,
    env: ["SQMA_LOG_LEVEL"],
    uci: ["output", "log_level"],
    flag: "log-level",
    aliases: ["ll"],
    description: "Log level: TRACE, DEBUG, INFO, WARN, ERROR or FATAL (case-insensitive).",
  },
  log_format: {
    kind: "enum",
    default: "text",
    choices: ["text", "json"],
    env: ["SQMA_LOG_FORMAT"],
    uci: ["output", "log_format"],
    flag: "log-format",
    description: "Log line format: text (upstream's) or json (one object per line, for shippers).",
  },
  log_priority: {
    kind: "enum",
    default: "none",
    choices: ["none", "stream", "prefix"],
    env: ["SQMA_LOG_PRIORITY"],
    uci: ["output", "log_priority"],
    serviceDefaultEnv: "SQMA_LOG_PRIORITY_DEFAULT",
    flag: "log-priority",
    description: "How a log line shows its syslog priority: none (every line on stderr), " +
      "stream (DEBUG and INFO on stdout, WARN and up on stderr: procd), prefix (sd-daemon's <N>: " +
      "journald); the service files set a default, which the UCI option overrides " +
      "(docs/install.md).",
  },
  stats_file: {
    kind: "path",
    default: "/tmp/sqm-autorate.csv",
    env: ["SQMA_STATS_FILE"],
    uci: ["output", "stats_file"],
    flag: "stats-file",
    description: "Per-tick statistics CSV (upstream format).",
  },
  speedhist_file: {
    kind: "path",
    default: "/tmp/sqm-speedhist.csv",
    env: ["SQMA_SPEED_HIST_FILE"],
    uci: ["output", "speed_hist_file"],
    flag: "speed-hist-file",
    description: "Speed-history CSV, dumped every 300 s (upstream format).",
  },
  suppress_statistics: {
    kind: "boolean",
    default: false,
    env: ["SQMA_SUPPRESS_STATISTICS"],
    uci: ["output", "suppress_statistics"],
    flag: "suppress-statistics",
    aliases: ["no-statistics", "ns"],
    description: "Do not write the statistics files.",
  },
  stats_max_kbytes: {
    kind: "integer",
    default: 2048,
    min: 16,
    max: 1_048_576,
    env: ["SQMA_STATS_MAX_KBYTES"],
    uci: ["output", "stats_max_kbytes"],
    flag: "stats-max-kbytes",
    unit: "KiB",
    description: "Size at which a statistics file is rotated (the previous file is kept as .1).",
  },
  // --- advanced (upstream and Rust port) ---
  histsize: {
    kind: "integer",
    default: 100,
    min: 1,
    max: 10_000,
    env: ["SQMA_SPEED_HIST_SIZE"],
    uci: ["advanced_settings", "speed_hist_size"],
    flag: "speed-hist-size",
    description: "Number of safe rates remembered per direction.",
  },
  ul_max_delta_owd: {
    kind: "number",
    default: 15,
    min: DELTA_OWD_BOUNDS_MS.min,
    max: DELTA_OWD_BOUNDS_MS.max,
    env: ["SQMA_UPLOAD_DELAY_MS"],
    uci: ["advanced_settings", "upload_delay_ms"],
    flag: "upload-delay-ms",
    aliases: ["ud"],
    unit: "ms",
    description: "Upload one-way delay increase above which the rate is cut.",
  },
  dl_max_delta_owd: {
    kind: "number",
    default: 15,
    min: DELTA_OWD_BOUNDS_MS.min,
    max: DELTA_OWD_BOUNDS_MS.max,
    env: ["SQMA_DOWNLOAD_DELAY_MS"],
    uci: ["advanced_settings", "download_delay_ms"],
    flag: "download-delay-ms",
    aliases: ["dd"],
    unit: "ms",
    description: "Download one-way delay increase above which the rate is cut.",
  },
  high_load_level: {
    kind: "number",
    default: 0.8,
    min: 0.67,
    max: 0.95,
    clamp: true,
    env: ["SQMA_HIGH_LOAD_LEVEL", "SQMA_HIGH_LEVEL_LOAD"],
    uci: ["advanced_settings", "high_load_level"],
    flag: "high-load-level",
    description: "Load ratio above which the rate may grow.",
  },
  rate_controller: {
    kind: "string",
    default: "ewma",
    env: ["SQMA_RATE_CONTROLLER"],
    uci: ["advanced_settings", "rate_controller"],
    flag: "rate-controller",
    description: "`ewma` (upstream's rules), `capacity` (sample-driven: cuts to the throughput " +
      "delivered before a delay rise; docs/controllers.md), a path to a .lua ratecontroller " +
      "script, or `builtin:<name>`.",
  },
  reflector_type: {
    kind: "enum",
    default: "icmp",
    choices: ["icmp"],
    env: ["SQMA_REFLECTOR_TYPE"],
    uci: ["advanced_settings", "reflector_type"],
    flag: "reflector-type",
    description: "Reflector protocol; only icmp (upstream accepts and ignores it).",
  },
  measurement_type: {
    kind: "enum",
    default: "icmp-timestamps",
    choices: ["icmp", "icmp-timestamps"],
    choiceAliases: { icmp_timestamps: "icmp-timestamps" },
    env: ["SQMA_MEASUREMENT_TYPE"],
    uci: ["advanced_settings", "measurement_type"],
    flag: "measurement-type",
    description: "Prefer ICMP timestamps (separate up/down delay) or plain echo (RTT/2).",
  },
  tick_interval: {
    kind: "number",
    default: 0.5,
    min: 0.05,
    max: 10,
    env: ["SQMA_TICK_INTERVAL"],
    uci: ["advanced_settings", "tick_interval"],
    flag: "tick-interval",
    unit: "s",
    description: "Ping period per reflector; also the freshness unit (2 x tick).",
  },
  min_change_interval: {
    kind: "number",
    default: 0.5,
    min: 0.05,
    max: 60,
    env: ["SQMA_MIN_CHANGE_INTERVAL"],
    uci: ["advanced_settings", "min_change_interval"],
    flag: "min-change-interval",
    unit: "s",
    description:
      "Control loop period: time between rate decisions (`capacity` decides every tick_interval / num_reflectors, at most this).",
  },
  num_reflectors: {
    kind: "integer",
    default: 5,
    min: 1,
    max: 255,
    env: ["SQMA_NUM_REFLECTORS"],
    uci: ["advanced_settings", "num_reflectors"],
    flag: "num-reflectors",
    description: "Number of reflectors pinged at once.",
  },
  peer_reselection_time: {
    kind: "integer",
    default: 15,
    min: 1,
    max: 1440,
    env: ["SQMA_PEER_RESELECTION_TIME"],
    uci: ["advanced_settings", "peer_reselection_time"],
    flag: "peer-reselection-time",
    unit: "min",
    description: "Reflector reselection period after the first 40 reselections.",
  },
  reflector_list_file: {
    kind: "path",
    default: "",
    env: ["SQMA_REFLECTOR_LIST_FILE"],
    uci: ["advanced_settings", "reflector_list_file"],
    flag: "reflector-list-file",
    description: "Reflector CSV (reflector_ip,ip_version,description); empty = embedded list.",
  },
  // --- new in this implementation ---
  shaper: {
    kind: "enum",
    default: "cake",
    choices: ["cake", "htb", "tbf"],
    env: ["SQMA_SHAPER"],
    uci: ["advanced_settings", "shaper"],
    flag: "shaper",
    description: "Shaper to retune: cake (root qdisc), htb (a class) or tbf (root qdisc).",
  },
  htb_classid: {
    kind: "string",
    default: "1:1",
    // tc's class id (hex major:minor); anything else only failed at the first `tc class change`.
    pattern: { re: /^[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i, text: "a class id MAJ:MIN (hex, e.g. 1:1)" },
    env: ["SQMA_HTB_CLASSID"],
    uci: ["advanced_settings", "htb_classid"],
    flag: "htb-classid",
    description: "HTB class whose rate is changed when shaper=htb.",
  },
  dl_counter: {
    kind: "enum",
    default: "auto",
    choices: ["auto", "rx", "tx"],
    env: ["SQMA_DOWNLOAD_COUNTER"],
    uci: ["advanced_settings", "download_counter"],
    flag: "download-counter",
    description: "Counter of the download interface that measures download (auto: upstream rule).",
  },
  ul_counter: {
    kind: "enum",
    default: "auto",
    choices: ["auto", "rx", "tx"],
    env: ["SQMA_UPLOAD_COUNTER"],
    uci: ["advanced_settings", "upload_counter"],
    flag: "upload-counter",
    description: "Counter of the upload interface that measures upload (auto: upstream rule).",
  },
  exit_rate: {
    kind: "enum",
    default: "base",
    choices: ["base", "min", "leave"],
    env: ["SQMA_EXIT_RATE"],
    uci: ["advanced_settings", "exit_rate"],
    flag: "exit-rate",
    description: "Shaper rate set on SIGINT/SIGTERM: base, min, or leave as is.",
  },
  state_dir: {
    kind: "path",
    default: "/tmp/sqm-autorate/",
    env: ["SQMA_STATE_DIR"],
    uci: ["advanced_settings", "state_dir"],
    flag: "state-dir",
    description:
      "Directory of the per-interface lock files that keep a second daemon off the same interfaces.",
  },
  idle_mode: {
    kind: "boolean",
    default: true,
    env: ["SQMA_IDLE_MODE"],
    uci: ["advanced_settings", "idle_mode"],
    flag: "idle-mode",
    description: "Stop pinging and hold idle_rate while both directions stay below idle_threshold.",
  },
  idle_threshold: {
    kind: "number",
    default: 200,
    min: 0,
    max: 100_000_000,
    env: ["SQMA_IDLE_THRESHOLD_KBITS"],
    uci: ["advanced_settings", "idle_threshold_kbits"],
    flag: "idle-threshold-kbits",
    unit: "kbit/s",
    description: "Throughput below which a direction counts as idle (idle_mode).",
  },
  idle_delay: {
    kind: "number",
    default: 60,
    min: 1,
    max: 86_400,
    env: ["SQMA_IDLE_DELAY"],
    uci: ["advanced_settings", "idle_delay"],
    flag: "idle-delay",
    unit: "s",
    description: "Seconds both directions must stay below idle_threshold before idling.",
  },
  idle_rate: {
    kind: "enum",
    default: "base",
    choices: ["base", "min", "leave"],
    env: ["SQMA_IDLE_RATE"],
    uci: ["advanced_settings", "idle_rate"],
    flag: "idle-rate",
    description: "Shaper rate held while idle: base, min, or leave the last rate.",
  },
  pinger: {
    kind: "enum",
    default: "auto",
    choices: ["auto", "tsping", "fping", "ping"],
    env: ["SQMA_PINGER"],
    uci: ["advanced_settings", "pinger"],
    flag: "pinger",
    description: "Pinger tool: auto picks tsping, else fping, else ping from PATH.",
  },
  pinger_binary: {
    kind: "path",
    default: "",
    env: ["SQMA_PINGER_BINARY"],
    uci: ["advanced_settings", "pinger_binary"],
    flag: "pinger-binary",
    description: "Path of the pinger executable (empty = look it up in PATH).",
  },
  pinger_interface: {
    kind: "string",
    default: "",
    env: ["SQMA_PINGER_INTERFACE"],
    uci: ["advanced_settings", "pinger_interface"],
    flag: "pinger-interface",
    description: "Bind pings to this interface (multi-WAN); empty = routing decides.",
  },
  pinger_source: {
    kind: "string",
    default: "",
    env: ["SQMA_PINGER_SOURCE"],
    uci: ["advanced_settings", "pinger_source"],
    flag: "pinger-source",
    description: "Source address for pings (multi-WAN); empty = routing decides.",
  },
  pinger_fwmark: {
    kind: "integer",
    default: 0,
    min: 0,
    max: 4_294_967_295,
    env: ["SQMA_PINGER_FWMARK"],
    uci: ["advanced_settings", "pinger_fwmark"],
    flag: "pinger-fwmark",
    description: "Firewall mark for pings where the tool supports it (0 = none).",
  },
  remote: {
    kind: "string",
    default: "",
    env: ["SQMA_REMOTE"],
    uci: ["remote", "host"],
    flag: "remote",
    description:
      "Shape a router over SSH ([user@]host, e.g. root@192.168.1.1); tc and counters run there, pings here. Empty = local.",
  },
  remote_port: {
    kind: "integer",
    default: 22,
    min: 1,
    max: 65535,
    env: ["SQMA_REMOTE_PORT"],
    uci: ["remote", "port"],
    flag: "remote-port",
    description: "SSH port of the remote router.",
  },
  remote_identity: {
    kind: "path",
    default: "",
    env: ["SQMA_REMOTE_IDENTITY"],
    uci: ["remote", "identity_file"],
    flag: "remote-identity",
    description: "Private key for the remote router (empty = ssh's defaults).",
  },
  remote_known_hosts: {
    kind: "path",
    default: "",
    env: ["SQMA_REMOTE_KNOWN_HOSTS"],
    uci: ["remote", "known_hosts_file"],
    flag: "remote-known-hosts",
    description: "known_hosts file holding the router's host key (empty = ssh's default).",
  },
  metrics_listen: {
    kind: "string",
    default: "",
    env: ["SQMA_METRICS_LISTEN"],
    uci: ["output", "metrics_listen"],
    flag: "metrics-listen",
    description:
      "HOST:PORT for Prometheus /metrics and the live page at / (empty = off); e.g. 127.0.0.1:9101.",
  },
  mqtt_url: {
    kind: "string",
    default: "",
    env: ["SQMA_MQTT_URL"],
    uci: ["output", "mqtt_url"],
    flag: "mqtt-url",
    description:
      "MQTT broker for Home Assistant, mqtt://[user:pass@]host[:port] (empty = off); e.g. mqtt://127.0.0.1:1883.",
  },
  mqtt_interval: {
    kind: "number",
    default: 10,
    min: 1,
    max: 3600,
    env: ["SQMA_MQTT_INTERVAL"],
    uci: ["output", "mqtt_interval"],
    flag: "mqtt-interval",
    unit: "s",
    description: "Seconds between MQTT state messages.",
  },
  plugin_ratecontrol: {
    kind: "string",
    default: "",
    env: ["SQMA_PLUGIN_RATECONTROL"],
    uci: ["plugins", "ratecontrol"],
    flag: "plugin-ratecontrol",
    description: "Upstream's single plugin (module name or path); added to plugin_scripts.",
  },
  plugin_scripts: {
    kind: "list",
    default: [],
    env: ["SQMA_PLUGIN_SCRIPTS"],
    uci: ["plugins", "plugin_script"],
    flag: "plugin-scripts",
    description: "Lua plugin scripts run in order each tick (env: comma-separated; repeatable).",
  },
  lua_time_limit_ms: {
    kind: "number",
    default: 50,
    min: 1,
    max: 10_000,
    env: ["SQMA_LUA_TIME_LIMIT_MS"],
    uci: ["advanced_settings", "lua_time_limit_ms"],
    flag: "lua-time-limit-ms",
    unit: "ms",
    description: "Per-call time limit for Lua scripts.",
  },
  lua_memory_limit_mb: {
    kind: "number",
    default: 16,
    min: 1,
    max: 1024,
    env: ["SQMA_LUA_MEMORY_LIMIT_MB"],
    uci: ["advanced_settings", "lua_memory_limit_mb"],
    flag: "lua-memory-limit-mb",
    unit: "MB",
    description: "Memory cap per Lua engine.",
  },
  // Default by measurement (docs/footprint.md, "Lua"): a worker costs 20-25 MB and ~0.5 % CPU.
  lua_isolation: {
    kind: "enum",
    default: "none",
    choices: ["none", "worker"],
    env: ["SQMA_LUA_ISOLATION"],
    uci: ["advanced_settings", "lua_isolation"],
    flag: "lua-isolation",
    description:
      "Where the daemon runs Lua: none (its own thread) or worker (stops a call stuck in C; more memory).",
  },
} as const satisfies Record<string, SettingSpec>;

/** The name of a setting in the table. */
export type SettingName = keyof typeof SETTINGS_TABLE;

type ValueOf<S> = S extends { kind: "number" | "integer" } ? number
  : S extends { kind: "boolean" } ? boolean
  : S extends { kind: "list" } ? string[]
  : S extends { kind: "enum"; choices: readonly (infer C)[] } ? C
  : string;

/** Values of every table setting. */
export type TableSettings = { -readonly [K in SettingName]: ValueOf<(typeof SETTINGS_TABLE)[K]> };

/** All setting names in table order. */
export const SETTING_NAMES = Object.keys(SETTINGS_TABLE) as SettingName[];

/** Looks up a setting's spec. */
export function specOf(name: SettingName): SettingSpec {
  return SETTINGS_TABLE[name];
}

/** The UCI options that are settings (`SettingSpec.uci`), by section type; a fresh map each call. */
export function settingUciOptions(): Map<string, Set<string>> {
  const options = new Map<string, Set<string>>();
  for (const name of SETTING_NAMES) {
    const uci = specOf(name).uci;
    if (uci === undefined) continue;
    const set = options.get(uci[0]) ?? new Set<string>();
    set.add(uci[1]);
    options.set(uci[0], set);
  }
  return options;
}
