// The agent's side of the exec shim (runtime/cni/shim): the container runtime executes the
// shim, which forwards the call (its CNI_* variables and stdin, as they came) to POST
// /v1/cni/call and prints the answer. The agent runs the whole call here (runCni: parsing,
// codes, results, mixed mode), in process against its own CNI API. What must happen where the
// runtime ran the plugin (mixed mode's record files, the kept configuration, the delegated
// plugins' runs) the agent asks back: the answer is then a host operation, which the shim
// does and returns with POST /v1/cni/resume; the call goes on until its answer is `done`.
import { existsSync } from "node:fs";
import * as z from "zod/mini";
import { type AgentCall, runCni } from "./commands.ts";
import type { HostOps, PluginRun } from "./host.ts";
import { callApi, checkRequest, type CniAgentApi, CniCode, CniError, problem } from "./protocol.ts";

export const CALL_PATH = "/v1/cni/call";
export const RESUME_PATH = "/v1/cni/resume";

/** Stdin (1 MiB + 1 byte at most, see config.ts) and the CNI_* variables, as JSON: well below this. */
const MAX_CALL_BYTES = 4 << 20;
/** How long the agent waits for the shim to come back from a file operation. */
const FILE_OP_WAIT_MS = 10_000;
/** ... and from a delegated plugin's run, beyond that run's own time. */
const EXEC_MARGIN_MS = 5_000;

/** The variables the shim forwards (it leaves out any other name, so none is refused here). */
const CniVar = /^CNI_[A-Za-z0-9_]{1,60}$/;
export const CallRequest = z.object({
  /** The CNI_* variables the runtime set, as it set them. */
  env: z.record(z.string().check(z.regex(CniVar)), z.string()),
  /** The network configuration, as the runtime wrote it. */
  stdin: z.string(),
});

/** What the agent asks the shim to do on the node (host.ts names what each does). */
export const HostOp = z.discriminatedUnion("op", [
  z.object({ op: z.literal("read"), path: z.string() }),
  z.object({ op: z.literal("write"), path: z.string(), text: z.string() }),
  z.object({ op: z.literal("remove"), path: z.string() }),
  z.object({ op: z.literal("list"), path: z.string() }),
  z.object({ op: z.literal("executable"), path: z.string() }),
  z.object({
    op: z.literal("exec"),
    path: z.string(),
    env: z.record(z.string(), z.string()),
    stdin: z.string(),
    timeoutMs: z.number(),
  }),
]);
export type HostOp = z.infer<typeof HostOp>;

/** The shim's answer to one host operation; `error`: it failed, and why. */
export const HostResult = z.object({
  error: z.optional(z.string()),
  /** read: the text; null when there is no such file. */
  text: z.optional(z.nullable(z.string())),
  /** list: the names. */
  names: z.optional(z.array(z.string())),
  /** executable. */
  ok: z.optional(z.boolean()),
  /** exec: the plugin's stdout and exit status (null: killed when its time ran out). */
  stdout: z.optional(z.string()),
  exitCode: z.optional(z.nullable(z.number())),
});
export type HostResult = z.infer<typeof HostResult>;

export const ResumeRequest = z.object({ session: z.string(), result: HostResult });

/** `done`: print stdout exactly, exit with exitCode. Otherwise do `op` and resume `session`. */
export type CallReply = { done: { stdout: string; exitCode: number } } | { session: string; op: HostOp };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One CNI call in flight: the reply the shim's current request waits for, and the host operation it owes. */
class Session {
  next = deferred<CallReply>();
  owed: { resolve(r: HostResult): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(
    readonly id: string,
    private readonly gone: () => void,
  ) {}

  ask(op: HostOp, waitMs: number): Promise<HostResult> {
    return new Promise<HostResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.owed = null;
        this.gone();
        reject(
          new CniError(CniCode.TryAgainLater, `the CNI plugin did not come back from its ${op.op} within ${waitMs} ms`),
        );
      }, waitMs);
      this.owed = { resolve, reject, timer };
      this.next.resolve({ session: this.id, op });
    });
  }

  resume(result: HostResult): Promise<CallReply> {
    const owed = this.owed;
    this.next = deferred<CallReply>();
    if (owed) {
      this.owed = null;
      clearTimeout(owed.timer);
      owed.resolve(result);
    }
    return this.next.promise;
  }
}

function failed(what: string, r: HostResult): Error | null {
  return r.error === undefined ? null : new Error(`${what}: ${r.error}`);
}

/** HostOps done by the shim of this session. */
function remoteHost(s: Session, fileOpWaitMs: number): HostOps {
  const ask = async (op: HostOp, waitMs = fileOpWaitMs) => {
    const r = await s.ask(op, waitMs);
    const e = failed(`${op.op} ${op.path}`, r);
    if (e) throw e;
    return r;
  };
  return {
    read: async (path) => (await ask({ op: "read", path })).text ?? null,
    write: async (path, text) => void (await ask({ op: "write", path, text })),
    remove: async (path) => void (await ask({ op: "remove", path })),
    list: async (path) => (await ask({ op: "list", path })).names ?? [],
    executable: async (path) => (await ask({ op: "executable", path })).ok === true,
    exec: async (path, env, stdin, timeoutMs): Promise<PluginRun> => {
      const vars: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
      const r = await ask({ op: "exec", path, env: vars, stdin, timeoutMs }, timeoutMs + EXEC_MARGIN_MS);
      return { stdout: r.stdout ?? "", exitCode: r.exitCode ?? null };
    },
  };
}

/** The request's body checked against `schema`, or the error answer. */
async function parsedBody<T>(req: Request, schema: z.ZodMiniType<T>, what: string): Promise<T | Response> {
  if (req.method !== "POST") return problem(405, CniCode.InvalidConfig, `${what} takes POST`);
  const text = await req.text();
  if (text.length > MAX_CALL_BYTES)
    return problem(413, CniCode.InvalidConfig, `${what}: request body is larger than ${MAX_CALL_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return problem(400, CniCode.DecodeFailure, `${what}: request body is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return problem(400, CniCode.InvalidConfig, `${what}: invalid request`, z.prettifyError(parsed.error));
  return parsed.data;
}

/** Serves the shim's two routes for this API; undefined for any other path. */
export function cniCalls(
  api: CniAgentApi,
  opts: { exists?: (path: string) => boolean; fileOpWaitMs?: number } = {},
): (req: Request) => Promise<Response> | undefined {
  const exists = opts.exists ?? existsSync;
  const fileOpWaitMs = opts.fileOpWaitMs ?? FILE_OP_WAIT_MS;
  const sessions = new Map<string, Session>();
  const agent = (): AgentCall => async (op, body) => callApi(api, op, checkRequest(op, body));

  const start = async (req: Request): Promise<Response> => {
    const call = await parsedBody(req, CallRequest, "call");
    if (call instanceof Response) return call;
    const s: Session = new Session(crypto.randomUUID(), () => sessions.delete(s.id));
    sessions.set(s.id, s);
    const first = s.next.promise;
    const run = runCni(call.env, call.stdin, { agent, exists, host: remoteHost(s, fileOpWaitMs) }).catch((err) => ({
      stdout: JSON.stringify({ cniVersion: "1.1.0", code: CniCode.AgentFailure, msg: (err as Error).message }),
      exitCode: 1,
      verbatim: false,
    }));
    run.then((out) => {
      sessions.delete(s.id);
      // A delegate's output is passed on exactly as it came; ours ends with a newline.
      const stdout = out.verbatim ? out.stdout : out.stdout && `${out.stdout}\n`;
      s.next.resolve({ done: { stdout, exitCode: out.exitCode } });
    });
    return Response.json(await first);
  };

  const resume = async (req: Request): Promise<Response> => {
    const resumed = await parsedBody(req, ResumeRequest, "resume");
    if (resumed instanceof Response) return resumed;
    const s = sessions.get(resumed.session);
    if (!s?.owed)
      return problem(
        404,
        CniCode.TryAgainLater,
        "the agent holds no such call (it restarted, or waited too long for the plugin); try the call again",
      );
    return Response.json(await s.resume(resumed.result));
  };

  return (req) => {
    const path = new URL(req.url).pathname;
    if (path === CALL_PATH) return start(req);
    if (path === RESUME_PATH) return resume(req);
    return undefined;
  };
}
