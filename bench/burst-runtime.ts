// The container runtime's side of bench/burst.ts, in a process of its own in the node's
// namespace, as containerd is: it executes the CNI plugin for every pod at once (CNI_* variables
// and the configuration on stdin, nothing else in the environment) and reports, per call, when
// it answered. Kept out of the bench's process, which also runs the emulated cloud: 100 process
// starts there held up the cloud's answers, which a real cloud does not share a CPU with.
// Input (stdin): {"calls": [{"plugin", "env", "conf"}]}. Output (stdout): {"wall0", "results"}.

export {};

interface Call {
  plugin: string;
  env: Record<string, string>;
  conf: string;
}

const { calls } = JSON.parse(await new Response(Bun.stdin.stream()).text()) as { calls: Call[] };
const wall0 = Date.now();
const t0 = performance.now();
const results = await Promise.all(
  calls.map(async (c) => {
    const proc = Bun.spawn([c.plugin], { env: c.env, stdin: new Blob([c.conf]), stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { ms: performance.now() - t0, code, stdout, stderr };
  }),
);
process.stdout.write(JSON.stringify({ wall0, results }));
