// Running the iproute2 / procps tools the data plane is built on, with failures that say
// which command failed and what it printed.
export class NetCommandError extends Error {
  override name = "NetCommandError";
  constructor(
    readonly cmd: string[],
    readonly code: number,
    readonly stderr: string,
    readonly input?: string,
  ) {
    const shown = input ? ` (stdin: ${input.trim().split("\n").join("; ").slice(0, 400)})` : "";
    super(`\`${cmd.join(" ")}\` exited with ${code}: ${stderr.trim().slice(0, 600)}${shown}`);
  }
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function exec(cmd: string[], input?: string): Promise<ExecResult> {
  const proc = Bun.spawn(cmd, {
    stdin: input === undefined ? "ignore" : new Blob([input]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export async function execOk(cmd: string[], input?: string): Promise<string> {
  const r = await exec(cmd, input);
  if (r.code !== 0) throw new NetCommandError(cmd, r.code, r.stderr, input);
  return r.stdout;
}
