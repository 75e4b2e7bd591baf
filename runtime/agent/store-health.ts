// While the state database's disk fails (full, read-only, I/O errors) the agent stays up but
// not ready: /readyz and CNI STATUS give the reason, ADD is refused with "try again later"
// (no IP leaves without its record), and the store is tried again until it takes a write.
import { type CniAgentApi, CniCode, CniError } from "../cni/protocol.ts";
import type { Logger } from "./log.ts";
import { type NodeStore, StoreFaultError } from "./store.ts";

/** How often a failing store is tried again. */
export const STORE_RETRY_MS = 2000;

export interface StoreHealthDeps {
  store: NodeStore;
  log: Logger;
  /** Called when the store takes writes again (the driver plans what it could not record). */
  onRecovered: () => void;
  retryMs?: number;
}

export class StoreHealth {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: StoreHealthDeps) {
    deps.store.onFaultChange((fault) => {
      if (fault === null) {
        this.stopRetry();
        deps.log.info("the state database takes writes again; the agent is ready", { path: deps.store.path });
        deps.onRecovered();
        return;
      }
      deps.log.error(`${fault.message}; the agent is not ready and retries`, {
        path: fault.path,
        code: fault.code,
        cause: fault.cause,
      });
      this.startRetry();
    });
  }

  /** Why the agent is not ready because of its store, else null. */
  reason(): string | null {
    return this.deps.store.fault?.message ?? null;
  }

  stop(): void {
    this.stopRetry();
  }

  /** The CNI API, refusing ADDs while the store fails and naming the store's fault in errors. */
  guard(api: CniAgentApi): CniAgentApi {
    const refuse = (what: string, message: string) =>
      new CniError(CniCode.TryAgainLater, `${what}: ${message}; try again later`);
    const guarded =
      <Q, R>(what: (req: Q) => string, call: (req: Q) => Promise<R>) =>
      async (req: Q): Promise<R> => {
        const reason = this.reason();
        if (reason !== null) throw refuse(what(req), reason);
        try {
          return await call(req);
        } catch (error) {
          if (error instanceof StoreFaultError) throw refuse(what(req), error.message);
          throw error;
        }
      };
    return {
      ...api,
      add: guarded((r) => `no IP for ${r.podNamespace ?? "?"}/${r.podName ?? "?"}`, api.add),
      del: guarded((r) => `the IP of container ${r.containerId} is not released`, api.del),
      gc: guarded(() => "CNI GC not done", api.gc),
      status: async (req) => {
        const reason = this.reason();
        return reason !== null ? { ready: false, idleIps: 0, message: reason } : api.status(req);
      },
    };
  }

  private startRetry(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.deps.store.probe(), this.deps.retryMs ?? STORE_RETRY_MS);
  }

  private stopRetry(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
