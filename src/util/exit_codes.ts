/** Process exit codes (BSD sysexits where one fits), so scripts can tell failures apart. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** A runtime failure not covered below. */
  FAILURE: 1,
  /** Bad command-line usage (unknown flag, missing argument). */
  USAGE: 64,
  /** Bad input data: a broken Lua ratecontroller or plugin script, a bad statistics file. */
  DATA: 65,
  /** Interfaces, shaper or counters unavailable after the start-up retries. */
  UNAVAILABLE: 69,
  /** An output file the command was told to write (`--out`, `--svg`) cannot be made or written. */
  CANT_CREATE: 73,
  /** Another daemon holds the lock of an interface (EX_TEMPFAIL: try again once it stopped). */
  LOCKED: 75,
  /** Internal error (a bug). */
  SOFTWARE: 70,
  /** Invalid configuration (a setting, the UCI file). */
  CONFIG: 78,
} as const;
