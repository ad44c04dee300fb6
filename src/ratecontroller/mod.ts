/**
 * Rate controllers: the EWMA controller and the factory that picks a controller from `settings.rate_controller`.
 */
import { EwmaController } from "./ewma.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { isLuaRatecontroller, ratecontrollerProblem } from "../config/ratecontroller_names.ts";
import type { Ratecontroller, RatecontrollerContext } from "../control/ratecontroller_port.ts";
import { CapacityController } from "./capacity.ts";

export { EwmaController, type EwmaOptions, type EwmaSettings } from "./ewma.ts";
export {
  CAPACITY_DEFAULTS,
  CapacityController,
  type CapacityParams,
  type CapacitySettings,
} from "./capacity.ts";

/** Builds a Lua ratecontroller (provided by `src/lua/mod.ts`). */
export type LuaRatecontrollerFactory = (context: RatecontrollerContext) => Promise<Ratecontroller>;

/** Optional factories for controllers implemented elsewhere. */
export interface RatecontrollerRegistry {
  /** Builds Lua ratecontrollers (`*.lua` paths and `builtin:<name>`). */
  luaFactory?: LuaRatecontrollerFactory;
}

/** Thrown when `rate_controller` names nothing we can build. */
export class RatecontrollerConfigError extends Error {
  /** Builds the error with a message naming the setting. */
  constructor(message: string) {
    super(message);
    this.name = "RatecontrollerConfigError";
  }
}

export { isLuaRatecontroller } from "../config/ratecontroller_names.ts";

/**
 * The exit code for a controller that could not be created: 78 when `rate_controller` names
 * nothing buildable, 65 (a broken script) otherwise. The daemon and the simulator use it.
 */
export function controllerFailureExitCode(error: unknown): number {
  return error instanceof RatecontrollerConfigError ? ExitCode.CONFIG : ExitCode.DATA;
}

/**
 * Creates the controller named by `context.settings.rate_controller`: `ewma`, `capacity`
 * or a Lua script through `registry.luaFactory`.
 */
export async function createRatecontroller(
  context: RatecontrollerContext,
  registry: RatecontrollerRegistry = {},
): Promise<Ratecontroller> {
  const name = context.settings.rate_controller.trim();
  if (name === "" || name === "ewma") {
    return new EwmaController(context.settings, context.random);
  }
  if (name === "capacity") {
    return new CapacityController(context.settings, context);
  }
  if (isLuaRatecontroller(name)) {
    if (registry.luaFactory === undefined) {
      throw new RatecontrollerConfigError(
        `rate_controller "${name}": Lua ratecontrollers need the Lua engine ` +
          "(pass luaFactory from src/lua/mod.ts to createRatecontroller)",
      );
    }
    return await registry.luaFactory(context);
  }
  throw new RatecontrollerConfigError(`rate_controller: ${ratecontrollerProblem(name)}`);
}
