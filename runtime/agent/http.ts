// The agent's two listeners. The unix socket (0600, root) carries the CNI protocol and the
// introspection view, which lists pods and IPs and so stays off the network. The TCP listener
// carries only health and metrics, for the kubelet's probes and Prometheus.
import type { CniAgentApi } from "../cni/protocol.ts";
import { serveCni } from "../cni/serve.ts";
import type { PoolView } from "./introspect.ts";
import { guardNetns, type NetnsRule } from "./netns-guard.ts";
import type { AgentMetrics } from "./metrics.ts";

export interface AgentServers {
  stop(): Promise<void>;
  /** The TCP port actually bound (listen may ask for port 0). */
  port: number | null;
}

export interface ServerDeps {
  socket: string;
  listen: string | null;
  cni: CniAgentApi;
  metrics: AgentMetrics;
  ready: () => boolean;
  /** Why the agent is not ready (its store's disk fails), for /readyz's body; null: none. */
  notReadyReason?: () => string | null;
  /** The introspection view (GET /v1/pool), built at each request. */
  view: () => PoolView;
  /** Which netns paths an ADD or CHECK may name (netns-guard.ts). */
  netns: NetnsRule;
  /** The TCP listener closes a kept-alive connection idle this long (seconds, 1 to 255); default 5. */
  idleTimeoutS?: number;
}

/** Health and metrics requests are GETs: a larger body is refused (413) unread. */
export const TCP_MAX_BODY_BYTES = 1024;

export function startServers(deps: ServerDeps): AgentServers {
  const local = serveCni(deps.socket, guardNetns(deps.cni, deps.netns), (req) =>
    new URL(req.url).pathname === "/v1/pool" && req.method === "GET" ? Response.json(deps.view()) : undefined,
  );

  let tcp: ReturnType<typeof Bun.serve> | undefined;
  if (deps.listen !== null) {
    const [host, port] = splitHostPort(deps.listen);
    tcp = Bun.serve({
      hostname: host,
      port,
      // A scraper or a stranger on the node's network cannot hold memory with a large body or
      // a connection held open.
      maxRequestBodySize: TCP_MAX_BODY_BYTES,
      idleTimeout: deps.idleTimeoutS ?? 5,
      async fetch(req) {
        switch (new URL(req.url).pathname) {
          case "/healthz":
            return new Response("ok\n");
          case "/readyz":
            return deps.ready()
              ? new Response("ready\n")
              : new Response(`${deps.notReadyReason?.() ?? "starting"}\n`, { status: 503 });
          case "/metrics":
            return new Response(await deps.metrics.text(), {
              headers: { "content-type": deps.metrics.registry.contentType },
            });
          default:
            return new Response("routes: /healthz /readyz /metrics\n", { status: 404 });
        }
      },
    });
  }
  return {
    port: tcp?.port ?? null,
    async stop() {
      await tcp?.stop(true);
      await local.stop();
    },
  };
}

export function splitHostPort(listen: string): [string, number] {
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new Error(`--listen ${JSON.stringify(listen)} is not host:port; allowed: e.g. 0.0.0.0:61678 or 127.0.0.1:0`);
  return [(m[1] ?? "").replace(/^\[|\]$/g, "") || "0.0.0.0", port];
}
