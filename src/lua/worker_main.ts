/**
 * Entry of the Lua worker: started as a module from a checkout, or as the embedded bundle built
 * from it (src/lua/gen_worker_bundle.ts).
 */
import { serveLuaWorker } from "./worker_entry.ts";

serveLuaWorker();
