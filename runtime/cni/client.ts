// The CNI binary's transport: one HTTP/1.1 request on a raw unix-socket connection.
// Bun.connect is used instead of fetch({unix}) because it starts faster in a compiled
// binary (measured in docs/cni.md); the protocol itself lives in ./protocol.ts.
import { CniCode, CniError, decodeAnswer, routes, type Op, type RequestOf, type ResponseOf } from "./protocol.ts";

export interface AgentClientOptions {
  socket: string;
  timeoutMs: number;
}

export type AgentCall = <O extends Op>(op: O, body: RequestOf<O>) => Promise<ResponseOf<O>>;

function parseHttp(raw: string): { status: number; body: string } {
  const end = raw.indexOf("\r\n\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (end < 0 || !m)
    throw new CniError(CniCode.AgentFailure, "agent answered with something that is not HTTP", raw.slice(0, 200));
  const head = raw.slice(0, end);
  let body = raw.slice(end + 4);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = unchunk(body);
  return { status: Number(m[1]), body };
}

function unchunk(s: string): string {
  let out = "";
  let i = 0;
  for (;;) {
    const nl = s.indexOf("\r\n", i);
    const size = parseInt(s.slice(i, nl), 16);
    if (!(size > 0)) return out;
    out += s.slice(nl + 2, nl + 2 + size);
    i = nl + 2 + size + 2;
  }
}

/** Unreachable agent = error 11 (try again later) for ADD/DEL/CHECK/GC; STATUS maps it to 50. */
export function agentClient(opts: AgentClientOptions): AgentCall {
  return (op, body) => {
    const payload = Buffer.from(JSON.stringify(body));
    const head = `POST ${routes[op].path} HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let settled = false;
      let sock: { terminate(): void } | undefined;
      const fail = (msg: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock?.terminate(); // an open socket would keep the process alive past the timeout
        reject(new CniError(CniCode.TryAgainLater, msg));
      };
      const timer = setTimeout(
        () => fail(`agent did not answer ${op} within ${opts.timeoutMs} ms on ${opts.socket}`),
        opts.timeoutMs,
      );
      Bun.connect({
        unix: opts.socket,
        socket: {
          open(s) {
            s.write(Buffer.concat([Buffer.from(head), payload]));
          },
          data(_s, d) {
            chunks.push(Buffer.from(d));
          },
          close() {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            try {
              const { status, body: text } = parseHttp(Buffer.concat(chunks).toString("utf8"));
              resolve(decodeAnswer(op, status, text));
            } catch (err) {
              reject(err);
            }
          },
          error(_s, err) {
            fail(`agent socket ${opts.socket} failed during ${op}: ${err.message}`);
          },
        },
      }).then(
        (s) => {
          sock = s;
          if (settled) s.terminate();
        },
        (err: Error) => fail(`cannot reach the node agent on ${opts.socket}: ${connectError(err)}`),
      );
    });
  };
}

/** Why a connect to the agent's socket failed, in words a node operator can act on. */
function connectError(err: Error): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case "EACCES":
      return "permission denied: the agent's socket is root's alone (0600), and container runtimes run CNI plugins as root";
    case "ENOENT":
      return "no such socket: is the vpccni agent running on this node?";
    case "ECONNREFUSED":
      return "connection refused: the agent is not listening (restarting?)";
    default:
      return err.message;
  }
}
