// Running a command to completion and reporting a failure with everything needed to see why.
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export class CommandError extends Error {
  override name = "CommandError";
  constructor(
    readonly cmd: string[],
    readonly result: RunResult,
  ) {
    super(`\`${cmd.join(" ")}\` exited with ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 1000)}`);
  }
}

export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    stdin: opts.input === undefined ? "ignore" : new Blob([opts.input]),
    stdout: "pipe",
    stderr: "pipe",
    env: opts.env ? { ...process.env, ...opts.env } : undefined,
    cwd: opts.cwd,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Like run(), but a non-zero exit is thrown as a CommandError. */
export async function runOk(cmd: string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(cmd, opts);
  if (result.code !== 0) throw new CommandError(cmd, result);
  return result.stdout;
}
