/** Entry of a Lua worker started from source (a bundle starts main.ts, which serves the same). */
import { serveLuaWorker } from "./worker_entry.ts";

serveLuaWorker();
