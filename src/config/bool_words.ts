/** The words a boolean setting accepts (README, "Settings"), upstream's and a few more. */

/** Words read as true (case-insensitive). */
export const TRUE_WORDS: readonly string[] = ["1", "true", "yes", "y", "on"];

/** Words read as false (case-insensitive). */
export const FALSE_WORDS: readonly string[] = ["0", "false", "no", "n", "off"];
