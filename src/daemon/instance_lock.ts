/**
 * One daemon per interface: an exclusive advisory lock (flock) on `<state_dir>/<ifname>.lock` for
 * each shaped interface, holding the owner's PID. Two daemons on the same interface would fight
 * over its rate and interleave one statistics file. The kernel drops the lock when its holder
 * dies, so a lock left by a killed daemon (a stale PID in the file) is simply taken over.
 */
import { type Clock, systemClock } from "../util/clock.ts";

/** Another process holds the lock of an interface. */
export class InstanceLockedError extends Error {
  /** The interface whose lock is held. */
  readonly ifname: string;
  /** The lock file. */
  readonly path: string;
  /** The holder's PID as written in the lock file (null when unreadable). */
  readonly holderPid: number | null;

  /** Builds the message naming the interface, the holder's PID and the lock file. */
  constructor(ifname: string, path: string, holderPid: number | null) {
    super(
      `another sqm-autorate (PID ${holderPid ?? "unknown"}) already controls interface ` +
        `${ifname} (lock ${path}); stop it first`,
    );
    this.name = "InstanceLockedError";
    this.ifname = ifname;
    this.path = path;
    this.holderPid = holderPid;
  }
}

/** Locks held by this process. */
export interface InstanceLock {
  /** The lock files held. */
  readonly paths: readonly string[];
  /** PIDs of dead holders whose locks were taken over (for the log). */
  readonly takenOverFrom: readonly number[];
  /**
   * Lock files held without our PID in them, with why (a full /tmp): the lock holds all the same;
   * a second daemon is refused with "PID unknown" (docs/operation.md, "Statistics files on a full
   * or read-only /tmp").
   */
  readonly pidNotWritten: readonly string[];
  /**
   * Locks again every lock file that no longer exists under its path (`rm -rf` of `state_dir`)
   * or was replaced by another file: the lock held on the old file keeps nobody out, since a
   * second daemon would lock a new file of the same name (docs/operation.md, "One daemon per
   * interface"). Returns what it found, one entry per lock file that was not in place.
   * Synchronous (a `stat` per file when all is well): the idle loop's thread gives pending I/O one
   * turn a tick (src/util/blocking_sleep.ts), which made each step of an async look a tick.
   */
  renew(): LockRenewal[];
  /**
   * True when this process made a lock file (it did not exist): after a removal under a running
   * daemon that one takes it back within `LOCK_CLAIM_S`, and this one must give way
   * ({@linkcode InstanceLock.confirm}) before it touches a shaper.
   */
  readonly made: boolean;
  /**
   * Throws `InstanceLockedError` when a lock file's path now names another process's locked file
   * (a daemon whose file was removed took it back: docs/operation.md, "One daemon per interface").
   */
  confirm(): void;
  /**
   * Clears the PIDs and releases the locks (the files stay: see `acquireInstanceLock`). Every
   * lock is released even when a PID cannot be cleared; the first such error rejects afterwards.
   */
  release(): Promise<void>;
}

/** A lock file found gone or replaced by {@linkcode InstanceLock.renew}, and what became of it. */
export type LockRenewal =
  /** Made again and locked (our PID in it unless `pidNotWritten`). */
  | { path: string; outcome: "relocked"; pidNotWritten?: string }
  /**
   * Another process locked a file it made there within `LOCK_CLAIM_S`: ours replaced it (that
   * process gives way before shaping); its PID as written in it.
   */
  | { path: string; outcome: "reclaimed"; holderPid: number | null }
  /** Another process locked the new file meanwhile (its PID as written in it, null if none). */
  | { path: string; outcome: "taken"; holderPid: number | null }
  /** It could not be made (the directory or file cannot be created): `error` says why. */
  | { path: string; outcome: "failed"; error: string };

/**
 * How long a daemon that made its lock file waits before it shapes, s: a daemon whose lock file
 * was removed looks every `min_change_interval`, at least every `LOCK_LOOK_MAX_S` (0.5 s, the
 * default interval), and takes back a file made there this recently, so that a second daemon
 * started at once after an `rm -rf` of `state_dir` gives way (exit 75) rather than shaping beside
 * it (docs/operation.md, "One daemon per interface").
 */
export const LOCK_CLAIM_S = 1.5;

/** A file made this recently by another process is taken back by `renew()`, s. */
const RECLAIM_YOUNGER_THAN_S = LOCK_CLAIM_S - 0.5;

/** At most one take-back per lock file in this long, s: two daemons never take turns at it. */
const RECLAIM_EVERY_S = 30;

/** The lock file of `ifname` in `dir`. */
export function lockPath(dir: string, ifname: string): string {
  return `${dir.replace(/\/+$/, "")}/${encodeURIComponent(ifname)}.lock`;
}

/**
 * Locks every interface in `interfaces` (deduplicated, in sorted order) under `dir`, creating the
 * directory. Rejects with `InstanceLockedError` when another process holds one (locks already
 * taken are released first). Lock files are never deleted: removing one while another process
 * has it open could let two processes lock two different files of the same name.
 */
export async function acquireInstanceLock(
  dir: string,
  options: {
    interfaces: readonly string[];
    pid?: number;
    /** The clocks of the take-back rules (default the system's; tests step the wall clock). */
    clock?: Clock;
  },
): Promise<InstanceLock> {
  const pid = options.pid ?? Deno.pid;
  const clock = options.clock ?? systemClock;
  await Deno.mkdir(dir, { recursive: true });
  const held: {
    ifname: string;
    path: string;
    file: Deno.FsFile;
    /** When its file was last taken back from another process (monotonic, s). */
    reclaimedS?: number;
  }[] = [];
  let made = false;
  const takenOverFrom: number[] = [];
  const pidNotWritten: string[] = [];
  // Every lock is released even when clearing a PID fails: a file system the kernel turned
  // read-only under a running daemon refuses the truncate, and closing drops the flock anyway.
  const releaseAll = async () => {
    let failure: unknown;
    for (const h of held.splice(0)) {
      await h.file.truncate(0).catch((e) => failure ??= e);
      await h.file.unlock().catch((e) => failure ??= e);
      h.file.close();
    }
    if (failure !== undefined) throw failure;
  };
  try {
    for (const ifname of [...new Set(options.interfaces)].sort()) {
      const path = lockPath(dir, ifname);
      const taken = lockFile(path, pid);
      if (!taken.locked) throw new InstanceLockedError(ifname, path, taken.holderPid);
      held.push({ ifname, path, file: taken.file });
      made ||= taken.made;
      if (taken.previous !== null && taken.previous !== pid) takenOverFrom.push(taken.previous);
      if (taken.pidNotWritten !== undefined) pidNotWritten.push(taken.pidNotWritten);
    }
  } catch (e) {
    await releaseAll().catch(() => {}); // the cause is `e`
    throw e;
  }
  const renew = () => {
    const found: LockRenewal[] = [];
    for (const h of held) {
      if (sameFile(h.path, h.file)) continue;
      let taken: ReturnType<typeof lockFile>;
      try {
        Deno.mkdirSync(dir, { recursive: true });
        taken = lockFile(h.path, pid);
      } catch (e) {
        found.push({ path: h.path, outcome: "failed", error: (e as Error).message });
        continue;
      }
      if (!taken.locked) {
        const back = reclaimable(h) ? reclaim(h.path, pid) : undefined;
        if (back === undefined) {
          found.push({ path: h.path, outcome: "taken", holderPid: taken.holderPid });
          continue;
        }
        h.file.close();
        h.file = back;
        h.reclaimedS = clock.monotonicS();
        found.push({ path: h.path, outcome: "reclaimed", holderPid: taken.holderPid });
        continue;
      }
      // The old file (deleted or moved away) keeps nobody out: the new one's lock replaces it.
      h.file.close();
      h.file = taken.file;
      found.push({ path: h.path, outcome: "relocked", pidNotWritten: taken.pidNotWritten });
    }
    return found;
  };
  // Taken back: a file another process made there since our last look (younger than that
  // process's wait), and not already taken back lately. The pause between take-backs is an
  // interval (monotonic); a file's age can only be had from its mtime (wall clock), and one from
  // "the future" was made before the clock was stepped back, so its age is unknown and it is not
  // taken back (docs/operation.md, "Wall-clock steps").
  const reclaimable = (h: (typeof held)[number]) => {
    if (h.reclaimedS !== undefined && clock.monotonicS() - h.reclaimedS < RECLAIM_EVERY_S) {
      return false;
    }
    try {
      const mtime = Deno.statSync(h.path).mtime?.getTime();
      if (mtime === undefined) return false;
      const ageMs = clock.wallMs() - mtime;
      return ageMs >= 0 && ageMs < RECLAIM_YOUNGER_THAN_S * 1000;
    } catch {
      return false;
    }
  };
  const confirm = () => {
    for (const h of held) {
      if (sameFile(h.path, h.file)) continue;
      let holderPid: number | null = null;
      try {
        const file = Deno.openSync(h.path, { read: true });
        try {
          if (file.tryLockSync(true)) {
            file.unlockSync();
            continue; // nobody holds it: `renew()` locks it again
          }
          holderPid = readPid(file);
        } finally {
          file.close();
        }
      } catch {
        continue; // gone: `renew()` makes it again
      }
      throw new InstanceLockedError(h.ifname, h.path, holderPid);
    }
  };
  return {
    paths: held.map((h) => h.path),
    takenOverFrom,
    pidNotWritten,
    made,
    renew,
    confirm,
    release: releaseAll,
  };
}

/**
 * Puts a new file locked by `pid` in place of `path` (made aside, then renamed over it: no moment
 * without a locked file there); undefined when that fails (the other process keeps it).
 */
function reclaim(path: string, pid: number): Deno.FsFile | undefined {
  const aside = `${path}.${pid}.new`;
  let taken: ReturnType<typeof lockFile> | undefined;
  try {
    Deno.removeSync(aside);
  } catch { /* not there */ }
  try {
    taken = lockFile(aside, pid);
    if (!taken.locked) return undefined;
    Deno.renameSync(aside, path);
    return taken.file;
  } catch {
    if (taken?.locked) taken.file.close();
    try {
      Deno.removeSync(aside);
    } catch { /* not there */ }
    return undefined;
  }
}

/**
 * Opens (creating) and tries to lock `path`; locked, it holds `pid` (unless `pidNotWritten` says
 * why not) and `previous` is the PID it held before; not locked, the holder's PID as written.
 */
function lockFile(path: string, pid: number):
  | {
    locked: true;
    file: Deno.FsFile;
    previous: number | null;
    pidNotWritten?: string;
    /** The file did not exist: made by this call. */
    made: boolean;
  }
  | { locked: false; holderPid: number | null } {
  let made = true;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true, createNew: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    made = false;
    file = Deno.openSync(path, { read: true, write: true, create: true });
  }
  if (!file.tryLockSync(true)) {
    const holderPid = readPid(file);
    file.close();
    return { locked: false, holderPid };
  }
  const previous = readPid(file);
  try {
    file.truncateSync(0);
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new TextEncoder().encode(`${pid}\n`));
  } catch (e) {
    // The PID only names the holder; the flock is what keeps a second daemon out.
    try {
      file.truncateSync(0);
    } catch { /* the cause is `e` */ }
    return {
      locked: true,
      file,
      previous,
      pidNotWritten: `${path}: ${(e as Error).message}`,
      made,
    };
  }
  return { locked: true, file, previous, made };
}

/**
 * Whether `path` still names the open `file` (same device and inode); true when that cannot be
 * told (a path the permissions do not let it look at): only a file seen gone or replaced counts.
 */
function sameFile(path: string, file: Deno.FsFile): boolean {
  try {
    const a = Deno.statSync(path);
    const b = file.statSync();
    return a.dev === b.dev && a.ino === b.ino;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

function readPid(file: Deno.FsFile): number | null {
  file.seekSync(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(32);
  const n = file.readSync(buf);
  const text = new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim();
  return /^[0-9]+$/.test(text) ? Number(text) : null;
}
