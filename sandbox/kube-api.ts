// A minimal REST call for the harness itself. The harness does not use
// @kubernetes/client-node, so that a problem in that library shows up in its own test
// instead of breaking every suite's set-up.
import type { Kubeconfig } from "./kubeconfig.ts";

export class KubeApiError extends Error {
  override name = "KubeApiError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} -> HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

export interface KubeCallOptions {
  body?: unknown;
  contentType?: string;
  /** Statuses that are not an error (e.g. 409 when "already exists" is fine). */
  allow?: number[];
}

export async function kubeCall(
  kc: Pick<Kubeconfig, "server" | "token" | "ca">,
  method: string,
  path: string,
  opts: KubeCallOptions = {},
): Promise<{ status: number; json: any }> {
  const res = await fetch(kc.server + path, {
    method,
    headers: {
      authorization: `Bearer ${kc.token}`,
      accept: "application/json",
      ...(opts.body !== undefined ? { "content-type": opts.contentType ?? "application/json" } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    tls: { ca: kc.ca },
  });
  const text = await res.text();
  if (!res.ok && !(opts.allow ?? []).includes(res.status)) {
    throw new KubeApiError(method, path, res.status, text);
  }
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
