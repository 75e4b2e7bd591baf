// Proves pod-to-pod connectivity with a real TCP exchange between two pods' network
// namespaces, using Bun itself (no ping or netcat needed on the machine): an echo server in one
// pod, a client in the other, each bound to its pod IP. A pod is entered with a command prefix:
// `ip netns exec` for a test-bed pod, `nsenter --net=<file>` for a sandbox that containerd made.
import type { Containerd, PodStatus } from "../../sandbox/containerd.ts";
import type { TestBed } from "../../sandbox/test-bed.ts";

/** A pod IP and the command prefix that runs a program in the pod's network namespace. */
export interface PodEnd {
  ip: string;
  enter: string[];
}

/** A pod namespace of the test bed (only one the bed made). */
export function bedPod(bed: TestBed, ns: string, ip: string): PodEnd {
  bed.assertOwned(ns);
  return { ip, enter: ["ip", "netns", "exec", ns] };
}

/** A pod sandbox of a node's containerd (only one of its live sandboxes). */
export function runtimePod(runtime: Containerd, pod: PodStatus): PodEnd {
  return { ip: pod.ip, enter: ["nsenter", `--net=${runtime.podNetns(pod)}`, "--"] };
}

const SERVER = `
const [ip, port] = process.argv.slice(-2);
Bun.listen({ hostname: ip, port: Number(port), socket: { data(s, d) { s.write(d); s.end(); } } });
console.log("listening");
`;

const CLIENT = `
const [ip, port, message] = process.argv.slice(-3);
const timer = setTimeout(() => { console.error("timed out"); process.exit(2); }, 5000);
await Bun.connect({ hostname: ip, port: Number(port), socket: {
  open(s) { s.write(message); },
  data(_s, d) { console.log(new TextDecoder().decode(d)); clearTimeout(timer); process.exit(0); },
  error(_s, e) { console.error(String(e)); process.exit(1); },
} });
`;

export async function tcpEcho(from: PodEnd, to: PodEnd, port = 7777): Promise<{ ok: boolean; detail: string }> {
  const server = Bun.spawn([...to.enter, process.execPath, "-e", SERVER, to.ip, String(port)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = server.stdout.getReader();
    const first = await reader.read(); // "listening", or nothing when the server could not start
    if (first.done) return { ok: false, detail: (await new Response(server.stderr).text()).trim() };
    const message = `hello from ${from.ip}`;
    const client = Bun.spawn([...from.enter, process.execPath, "-e", CLIENT, to.ip, String(port), message], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = [
      await new Response(client.stdout).text(),
      await new Response(client.stderr).text(),
      await client.exited,
    ];
    return { ok: code === 0 && out.trim() === message, detail: (out + err).trim() };
  } finally {
    server.kill();
  }
}
