// Proves pod-to-pod connectivity with a real TCP exchange between two pod namespaces, using
// Bun itself (no ping or netcat needed on the machine): an echo server in one pod, a client
// in the other, each bound to its pod IP.
import type { TestBed } from "../../sandbox/test-bed.ts";

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

export async function tcpEcho(
  bed: TestBed,
  from: { ns: string; ip: string },
  to: { ns: string; ip: string },
  port = 7777,
): Promise<{ ok: boolean; detail: string }> {
  const server = Bun.spawn(["ip", "netns", "exec", to.ns, process.execPath, "-e", SERVER, to.ip, String(port)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = server.stdout.getReader();
    await reader.read(); // "listening"
    bed.assertOwned(from.ns);
    const message = `hello from ${from.ip}`;
    const client = Bun.spawn(
      ["ip", "netns", "exec", from.ns, process.execPath, "-e", CLIENT, to.ip, String(port), message],
      { stdout: "pipe", stderr: "pipe" },
    );
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
