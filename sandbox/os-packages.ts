// The few OS commands the sandbox runs, and the Debian packages that bring them. As root on
// a Debian or Ubuntu machine the missing ones are installed with apt-get (one line said per
// package); anywhere else the answer is one line naming the package to install.
export interface OsTool {
  command: string;
  /** The Debian/Ubuntu package that ships it. */
  pkg: string;
  /** What the sandbox uses it for, said when it is installed. */
  why: string;
}

/** What the demo's test bed and agents execute; everything else is Bun. */
export const SANDBOX_TOOLS: OsTool[] = [
  { command: "ip", pkg: "iproute2", why: "network namespaces, veths, routes and rules" },
  { command: "nsenter", pkg: "util-linux", why: "the agent enters its node's namespace" },
];

export type Say = (line: string) => void;

function missingOf(tools: OsTool[]): OsTool[] {
  return tools.filter((t) => Bun.which(t.command) === null);
}

async function apt(args: string[]): Promise<{ ok: boolean; output: string }> {
  const proc = Bun.spawn(["apt-get", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
    await proc.exited,
  ];
  return { ok: code === 0, output: `${out}${err}`.trim().split("\n").slice(-3).join(" / ") };
}

/**
 * Makes sure every tool is on PATH. Returns null when they all are (after installing what
 * was missing), else one line that says what is missing and how to get it.
 */
export async function ensureOsTools(tools: OsTool[], say: Say): Promise<string | null> {
  let missing = missingOf(tools);
  if (missing.length === 0) return null;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const manual = `install ${pkgs.join(" ")} with your package manager (e.g. apt-get install ${pkgs.join(" ")})`;
  if (process.getuid?.() !== 0) return `${missing.map((t) => t.command).join(", ")} not found; ${manual}`;
  if (Bun.which("apt-get") === null)
    return `${missing.map((t) => t.command).join(", ")} not found and this machine has no apt-get; ${manual}`;
  // An apt index may be missing (fresh images ship none) or stale: update once first.
  const update = await apt(["update", "-qq"]);
  if (!update.ok) return `apt-get update failed (${update.output}); ${manual}`;
  for (const pkg of pkgs) {
    say(
      `    installing ${pkg} with apt-get (${missing
        .filter((t) => t.pkg === pkg)
        .map((t) => `${t.command}: ${t.why}`)
        .join("; ")})`,
    );
    const install = await apt(["install", "-y", "-qq", "--no-install-recommends", pkg]);
    if (!install.ok) return `apt-get install ${pkg} failed (${install.output}); ${manual}`;
  }
  missing = missingOf(tools);
  return missing.length === 0
    ? null
    : `${missing.map((t) => t.command).join(", ")} still not on PATH after installing ${pkgs.join(" ")}`;
}
