// Faults of the disk that holds the state database: full, read-only, failing. They are the
// node's, not vpccni's: the agent says which folder and why, turns not ready and retries,
// instead of crashing or carrying on with decisions it could not record.
import { accessSync, constants } from "node:fs";
import { dirname } from "node:path";

/** A write to the state database failed because of its disk. */
export interface StoreFault {
  path: string;
  /** The SQLite or system error code, e.g. SQLITE_FULL, SQLITE_READONLY, EROFS. */
  code: string;
  /** Why, in words: "no space left on the device holding /var/lib/vpccni". */
  cause: string;
  /** One line for logs, /readyz, CNI STATUS and refused ADDs. */
  message: string;
}

const FULL = new Set(["SQLITE_FULL", "ENOSPC", "EDQUOT"]);
const READ_ONLY = new Set(["EROFS"]);
const IO = new Set(["EIO"]);

/** The fault behind `error` when it is one of the disk's, else null (a bug, a bad value...). */
export function diskFault(error: unknown, path: string): StoreFault | null {
  const code = String((error as { code?: unknown } | null)?.code ?? "");
  const dir = dirname(path);
  let cause: string;
  if (FULL.has(code)) cause = `no space left on the device holding ${dir}`;
  else if (READ_ONLY.has(code)) cause = `read-only file system at ${dir}`;
  else if (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN"))
    cause = writeAccess(dir) ?? `${dir} cannot be written (${code})`;
  else if (code.startsWith("SQLITE_IOERR") || IO.has(code))
    cause = writeAccess(dir) ?? `I/O error on the device holding ${dir} (${code})`;
  else return null;
  return {
    path,
    code,
    cause,
    message: `the state database ${path} cannot be written: ${cause}`,
  };
}

/** Why the folder cannot be written, when the file system says so; null when it can. */
function writeAccess(dir: string): string | null {
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS") return `read-only file system at ${dir}`;
    if (code === "EACCES" || code === "EPERM") return `no permission to write ${dir}`;
    if (code === "ENOENT") return `${dir} does not exist`;
    return `${dir} cannot be written (${code})`;
  }
}
