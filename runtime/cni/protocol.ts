// The CNI binary <-> node agent protocol: HTTP/JSON over a unix socket (0600), so
// `curl --unix-socket /run/vpccni/cni.sock http://agent/v1/cni/status` can inspect it.
// This module is the ONLY definition of routes, bodies and errors; the CNI binary (client)
// and the agent (server, via protocolHandler) both import it. zod/mini keeps the binary's
// start-up cost low (see docs/cni.md).
import * as z from "zod/mini";

export const PROTOCOL = "vpccni-cni/1";
export const DEFAULT_SOCKET = "/run/vpccni/cni.sock";

/** CNI_IFNAME: a Linux interface name (at most 15 bytes, no "/" or space), the plugin's rule and the agent's. */
export const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** K8S_POD_NAME: a DNS-1123 subdomain, as the API server validates pod names. */
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** K8S_POD_NAMESPACE: a DNS-1123 label. */
const DNS1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether the kernel would take `name` as an interface name ("." and ".." it refuses). */
export function validIfname(name: string): boolean {
  return IFNAME.test(name) && name !== "." && name !== "..";
}

/**
 * The request's arguments the schema leaves open, checked by the agent whoever calls it:
 * interface names and the pod's name and namespace. Null when they are fine, else the CNI
 * error (code 4, an invalid CNI_IFNAME or CNI_ARGS) naming the value and what is allowed.
 */
export function argumentProblem(req: {
  ifname?: string;
  validAttachments?: { ifname: string }[];
  podName?: string;
  podNamespace?: string;
}): CniError | null {
  const bad = (what: string, value: string, allowed: string) =>
    new CniError(CniCode.InvalidEnvironment, `${what} ${JSON.stringify(value)} is invalid; allowed: ${allowed}`);
  const ifnameRule = "1 to 15 of A-Z a-z 0-9 _ . -, not . or ..";
  for (const ifname of [req.ifname, ...(req.validAttachments ?? []).map((a) => a.ifname)])
    if (ifname !== undefined && !validIfname(ifname)) return bad("CNI_IFNAME", ifname, ifnameRule);
  if (req.podName !== undefined && !DNS1123_SUBDOMAIN.test(req.podName))
    return bad("K8S_POD_NAME", req.podName, "a DNS-1123 subdomain (a-z 0-9 - ., at most 253)");
  if (req.podNamespace !== undefined && !DNS1123_LABEL.test(req.podNamespace))
    return bad("K8S_POD_NAMESPACE", req.podNamespace, "a DNS-1123 label (a-z 0-9 -, at most 63)");
  return null;
}

const Name = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/));
const Ipv4 = z.string().check(z.regex(/^\d{1,3}(\.\d{1,3}){3}$/));
const Mac = z.string().check(z.regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/));

/** One attachment, as CNI keys it: (network name, container ID, interface name). */
export const Attachment = z.object({ containerId: Name, ifname: Name });

export const AddRequest = z.object({
  network: Name,
  containerId: Name,
  ifname: Name,
  /** CNI_NETNS: the agent wires the pod's veth into it. */
  netns: z.string().check(z.regex(/^\/\S{1,4000}$/)),
  /** From CNI_ARGS (K8S_POD_NAMESPACE / K8S_POD_NAME), for events and fixed-IP lookups. */
  podNamespace: z.optional(z.string()),
  podName: z.optional(z.string()),
  /** CNI_ARGS K8S_POD_UID: fixed IP mode checks it against the claim's pod. */
  podUid: z.optional(z.string()),
});
export const AddResponse = z.object({
  ip: Ipv4,
  prefixLength: z.number(),
  /** The pod's default gateway (169.254.1.1, answered by a permanent neighbour entry). */
  gateway: Ipv4,
  eniMac: Mac,
  routeTable: z.number(),
  hostVeth: z.string(),
  hostMac: Mac,
  podMac: Mac,
});
export const DelRequest = z.object({ network: Name, containerId: Name, ifname: Name, netns: z.optional(z.string()) });
export const DelResponse = z.object({ released: z.optional(Ipv4) });
export const CheckRequest = z.object({
  network: Name,
  containerId: Name,
  ifname: Name,
  netns: z.string(),
  ip: z.optional(Ipv4),
});
export const CheckResponse = z.object({ ok: z.literal(true) });
export const GcRequest = z.object({ network: Name, validAttachments: z.array(Attachment) });
export const GcResponse = z.object({
  released: z.array(z.object({ containerId: z.string(), ifname: z.string(), ip: Ipv4 })),
});
/**
 * Mixed mode: who wires this attachment, asked before an ADD. The agent answers vpccni for an
 * attachment it already holds, for every pod in default mode, and in mixed mode for a pod whose
 * networks annotation opts in; delegate otherwise (the node's previous CNI configuration).
 */
export const OwnerRequest = z.object({
  network: Name,
  containerId: Name,
  ifname: Name,
  podNamespace: z.optional(z.string()),
  podName: z.optional(z.string()),
  /**
   * The pod's annotations as the runtime passed them (runtimeConfig
   * "io.kubernetes.cri.pod-annotations"; {} for a pod without any). Absent: the runtime passed
   * none, so it does not support that capability.
   */
  podAnnotations: z.optional(z.record(z.string(), z.string())),
});
export const OwnerResponse = z.object({
  owner: z.enum(["vpccni", "delegate"]),
  /** Why, for the logs: "policy mode is default", "annotated tke-route-eni", "pod not annotated"... */
  reason: z.string(),
});
export const StatusRequest = z.object({ network: Name });
export const StatusResponse = z.object({
  /** false: the agent cannot give the next pod an IP right now (STATUS answers error 50). */
  ready: z.boolean(),
  idleIps: z.number(),
  message: z.optional(z.string()),
});
/** Every non-2xx answer. `code` is a CNI error code the binary passes on unchanged. */
export const ErrorResponse = z.object({
  error: z.object({ code: z.number(), message: z.string(), details: z.optional(z.string()) }),
});

export type AddRequest = z.infer<typeof AddRequest>;
export type AddResponse = z.infer<typeof AddResponse>;
export type DelRequest = z.infer<typeof DelRequest>;
export type DelResponse = z.infer<typeof DelResponse>;
export type CheckRequest = z.infer<typeof CheckRequest>;
export type CheckResponse = z.infer<typeof CheckResponse>;
export type GcRequest = z.infer<typeof GcRequest>;
export type GcResponse = z.infer<typeof GcResponse>;
export type OwnerRequest = z.infer<typeof OwnerRequest>;
export type OwnerResponse = z.infer<typeof OwnerResponse>;
export type StatusRequest = z.infer<typeof StatusRequest>;
export type StatusResponse = z.infer<typeof StatusResponse>;
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** All calls are POST with a JSON body, so one transport serves them all. */
export const routes = {
  add: { path: "/v1/cni/add", request: AddRequest, response: AddResponse },
  del: { path: "/v1/cni/del", request: DelRequest, response: DelResponse },
  check: { path: "/v1/cni/check", request: CheckRequest, response: CheckResponse },
  gc: { path: "/v1/cni/gc", request: GcRequest, response: GcResponse },
  status: { path: "/v1/cni/status", request: StatusRequest, response: StatusResponse },
  owner: { path: "/v1/cni/owner", request: OwnerRequest, response: OwnerResponse },
} as const;
export type Op = keyof typeof routes;
export type RequestOf<O extends Op> = z.infer<(typeof routes)[O]["request"]>;
export type ResponseOf<O extends Op> = z.infer<(typeof routes)[O]["response"]>;

/** CNI spec error codes used on this protocol (the spec's "well-known error codes"). */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  LimitedConnectivity: 51,
  /** Plugin-specific (>= 100): CHECK found the wiring different from what was set up. */
  CheckFailed: 101,
  /** Plugin-specific: the agent failed for a reason of its own. */
  AgentFailure: 102,
  /**
   * Plugin-specific: the policy lists no subnet in the node's zone, so the node cannot get an
   * IP until the policy changes. Not 11 (nothing transient to wait out), not 7 (the network
   * configuration on stdin is valid), not 50 (a STATUS answer).
   */
  NoSubnetInZone: 103,
  /**
   * Plugin-specific: the policy switches vpccni off (spec.enabled: false), so no new pod gets
   * an IP on this node again; pods already running keep theirs. Not 11 (a retry never
   * succeeds), not 7 (the network configuration is valid), not 50 (a STATUS answer; STATUS
   * itself answers 50 meanwhile).
   */
  SwitchedOff: 104,
} as const;

export class CniError extends Error {
  override name = "CniError";
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

/** What the agent implements; protocolHandler turns it into a fetch handler. */
export type CniAgentApi = { [O in Op]: (req: RequestOf<O>) => Promise<ResponseOf<O>> };

/** An error answer: `{error: {code, message, details?}}` with this HTTP status. */
export function problem(status: number, code: number, message: string, details?: string): Response {
  const body: ErrorResponse = { error: { code, message, ...(details ? { details } : {}) } };
  return Response.json(body, { status });
}

/** The request checked as every caller's is: its shape, then the arguments the schema leaves open. */
export function checkRequest<O extends Op>(op: O, body: unknown): RequestOf<O> {
  const parsed = routes[op].request.safeParse(body);
  if (!parsed.success)
    throw new CniError(CniCode.InvalidConfig, `${op}: invalid request`, z.prettifyError(parsed.error));
  const bad = argumentProblem(parsed.data as Parameters<typeof argumentProblem>[0]);
  if (bad) throw new CniError(bad.code, `${op}: ${bad.message}`);
  return parsed.data as RequestOf<O>;
}

/** Runs a checked request; a failure that is not a CniError is the agent's own (102). */
export async function callApi<O extends Op>(api: CniAgentApi, op: O, req: RequestOf<O>): Promise<ResponseOf<O>> {
  try {
    const out = await (api[op] as (r: unknown) => Promise<unknown>)(req);
    return routes[op].response.parse(out) as ResponseOf<O>;
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(CniCode.AgentFailure, `${op} failed: ${(err as Error).message}`);
  }
}

/** Server side: routes, validates both ways and maps thrown CniErrors to error bodies. */
export function protocolHandler(api: CniAgentApi): (req: Request) => Promise<Response> {
  const byPath = new Map<string, Op>(Object.entries(routes).map(([op, r]) => [r.path, op as Op]));
  return async (req) => {
    const op = byPath.get(new URL(req.url).pathname);
    if (!op)
      return problem(
        404,
        CniCode.InvalidConfig,
        `no route ${new URL(req.url).pathname}; routes: ${[...byPath.keys()].join(", ")}`,
      );
    if (req.method !== "POST") return problem(405, CniCode.InvalidConfig, `${op} takes POST, got ${req.method}`);
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return problem(400, CniCode.DecodeFailure, `${op}: request body is not JSON`);
    }
    let checked: RequestOf<typeof op>;
    try {
      checked = checkRequest(op, body);
    } catch (err) {
      const e = err as CniError;
      return problem(400, e.code, e.message, e.details);
    }
    try {
      return Response.json(await callApi(api, op, checked));
    } catch (err) {
      const e = err as CniError;
      return problem(statusOf(e.code), e.code, e.message, e.details);
    }
  };
}

const statusOf = (code: number) =>
  code === CniCode.TryAgainLater ? 503 : code === CniCode.InvalidEnvironment ? 400 : 500;
