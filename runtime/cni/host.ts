// What a CNI call needs from the node itself, outside the agent: the files of mixed mode's
// records and kept configuration, and the delegated plugins' runs. The agent serves every CNI
// call, but these happen where the container runtime ran the plugin (the exec shim, on the
// host, with the runtime's environment): the agent asks the shim for each one (calls.ts). The
// local implementation does them in this process, for tests and tools that run on the host.
import {
  accessSync,
  constants,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";

export interface PluginRun {
  stdout: string;
  /** null: the plugin was killed (its time ran out). */
  exitCode: number | null;
}

/**
 * Executes a plugin binary with this stdin. `env` is laid over the environment the runtime gave
 * the plugin (CNI_COMMAND and the other CNI_* variables); the plugin's stderr goes to the
 * runtime's, as the plugin's own does.
 */
export type PluginExec = (
  binary: string,
  env: Record<string, string | undefined>,
  stdin: string,
  timeoutMs: number,
) => Promise<PluginRun>;

export interface HostOps {
  /** The file's text, or null when it does not exist; any other failure throws, naming it. */
  read(path: string): Promise<string | null>;
  /** Written whole (a temporary file renamed into place), 0600, its folders made 0700. */
  write(path: string, text: string): Promise<void>;
  /** Removes the file; nothing when it is gone already. */
  remove(path: string): Promise<void>;
  /** The names in a folder; [] when it does not exist or cannot be read. */
  list(dir: string): Promise<string[]>;
  /** Is it a file this process may execute? */
  executable(path: string): Promise<boolean>;
  exec: PluginExec;
}

/** The plugin's environment for a delegated run: this process's, with `env` laid over it. */
function execEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) out[k] = v;
  return out;
}

/** Host operations done by this process (tests, and tools that run on the node itself). */
export const localHost: HostOps = {
  async read(path) {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new Error((error as Error).message);
    }
  },
  async write(path, text) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  },
  async remove(path) {
    rmSync(path, { force: true });
  },
  async list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  async executable(path) {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  async exec(binary, env, stdin, timeoutMs) {
    const proc = Bun.spawn([binary], {
      env: execEnv(env),
      stdin: new Blob([stdin]),
      stdout: "pipe",
      stderr: "inherit",
      timeout: timeoutMs,
    });
    const stdout = await new Response(proc.stdout).text();
    await proc.exited;
    return { stdout, exitCode: proc.signalCode ? null : proc.exitCode };
  },
};
