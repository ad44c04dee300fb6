import { getLogger, type Logger } from "@logtape/logtape";

/** Returns the logger of one stage, e.g. `stageLogger("control")`. */
export function stageLogger(stage: string): Logger {
  return getLogger(["sqm-autorate", stage]);
}
