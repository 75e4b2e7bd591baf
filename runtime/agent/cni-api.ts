// The agent's side of the CNI socket: ADD takes an IP from the pool and wires the pod, DEL
// unwires and gives the IP back to the node pool, CHECK compares the kernel with the record,
// GC frees what the runtime no longer knows, STATUS says whether the next ADD can succeed.
import { type CniAgentApi, CniCode, CniError, type RequestOf, type ResponseOf } from "../cni/protocol.ts";
import { Turns } from "../net/turns.ts";
import type { DataPlane } from "../net/types.ts";
import { POD_GATEWAY } from "../net/types.ts";
import { podKey, summary } from "../pool/index.ts";
import type { PoolDriver } from "./driver.ts";
import type { CloudExecutor } from "./executor.ts";
import type { Logger } from "./log.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { PodActivity } from "./pod-activity.ts";
import type { NodeStore } from "./store.ts";

export interface CniApiDeps {
  driver: PoolDriver;
  store: NodeStore;
  dataPlane: DataPlane;
  executor: CloudExecutor;
  metrics: AgentMetrics;
  log: Logger;
  /** How long an ADD waits for the pool to grow before answering "try again later". */
  addTimeoutMs: number;
  /** Called when an ADD found no IP (the agent turns it into a rate-limited Event). */
  onExhausted?: (message: string) => void;
  /** Why the pool cannot grow when the policy lists no subnet in the node's zone, else null (zones.ts). */
  noSubnetInZone?: () => string | null;
  /** Called when an ADD was refused for want of a subnet in the node's zone (a rate-limited Event). */
  onNoSubnetInZone?: (message: string) => void;
  /** Why no new pod gets an IP while the policy switches vpccni off (switch-off.ts), else null. */
  switchedOff?: () => string | null;
  /** Mixed mode: whether a pod opted in to VPC-CNI (opt-in.ts); absent, every pod is vpccni's. */
  optIn?: (req: RequestOf<"owner">) => ResponseOf<"owner">;
  /** ADDs and DELs under way, for the data-plane repair (pod-activity.ts). */
  activity?: PodActivity;
  now?: () => number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** An ADD's answer, both IP modes: the pod's /32 behind the link-local gateway, and its wiring. */
export function addResult(
  ip: string,
  link: { mac: string; table: number },
  wiring: { hostVeth: string; hostMac: string; podMac: string },
): ResponseOf<"add"> {
  return {
    ip,
    prefixLength: 32,
    gateway: POD_GATEWAY,
    eniMac: link.mac,
    routeTable: link.table,
    hostVeth: wiring.hostVeth,
    hostMac: wiring.hostMac,
    podMac: wiring.podMac,
  };
}

/** The CNI error of an ADD whose wiring failed (after it was undone). */
export function wiringFailed(netns: string, ip: string, error: unknown): CniError {
  return new CniError(CniCode.AgentFailure, `wiring ${netns} with ${ip} failed: ${(error as Error).message}`);
}

export function cniApi(deps: CniApiDeps): CniAgentApi {
  const now = deps.now ?? Date.now;
  const wiring = new Turns();

  async function unwireAndRelease(
    key: string,
    ref: { containerId: string; ifname: string; network: string },
  ): Promise<{ ip: string | undefined; unwireMs: number; releaseMs: number }> {
    const assignment = deps.driver.state.pods[key];
    const ip = assignment?.ip;
    const t0 = performance.now();
    // Unwire before the IP goes back to the pool, so that it is never wired twice.
    await deps.dataPlane.unwirePod(ref, ip);
    const t1 = performance.now();
    // One transaction, one sync: the IP back in the pool and the record gone.
    deps.store.atomically(() => {
      deps.driver.release(key);
      deps.store.deleteAttachment(key);
    });
    return { ip, unwireMs: round(t1 - t0), releaseMs: round(performance.now() - t1) };
  }

  const api: CniAgentApi = {
    async add(req: RequestOf<"add">): Promise<ResponseOf<"add">> {
      const key = podKey(req);
      const started = now();
      const t0 = performance.now();
      const pod = `${req.podNamespace ?? "?"}/${req.podName ?? "?"}`;
      // Switched off: refused for good, at once (an ADD of a pod that has its IP is answered
      // as before: the runtime may repeat one).
      const off = deps.switchedOff?.() ?? null;
      if (off !== null && !deps.driver.state.pods[key]) {
        deps.metrics.allocation(false, 0);
        throw new CniError(CniCode.SwitchedOff, `no IP for ${pod}: ${off}`);
      }
      // No subnet in the node's zone and no idle IP: the pool cannot grow, and waiting would
      // not change that (only a policy change does). Say so at once, with a code that is not
      // "try again later".
      const refusal = deps.noSubnetInZone?.() ?? null;
      if (refusal !== null && !deps.driver.state.pods[key] && summary(deps.driver.state, started).ready === 0) {
        deps.metrics.allocation(false, 0);
        deps.onNoSubnetInZone?.(refusal);
        throw new CniError(
          CniCode.NoSubnetInZone,
          `no IP for ${req.podNamespace ?? "?"}/${req.podName ?? "?"}: ${refusal}`,
        );
      }
      const record = {
        key,
        netns: req.netns,
        namespace: req.podNamespace ?? null,
        name: req.podName ?? null,
        createdAt: now(),
      };
      // The attachment record commits in the same transaction as the IP it records, whether
      // an idle IP is taken at once (the warm path) or the pod waits for the pool to grow (its
      // IP then comes with the others served at that moment): one sync, not two.
      const pending = deps.store.atomically(() =>
        deps.driver.allocate(key, deps.addTimeoutMs, () => deps.store.putAttachment(record)),
      );
      const answer = await pending;
      const t1 = performance.now();
      deps.metrics.allocation(answer.ok, now() - started);
      if (!answer.ok && answer.code === "switched-off")
        throw new CniError(CniCode.SwitchedOff, `no IP for ${pod}: ${deps.switchedOff?.() ?? answer.message}`);
      if (!answer.ok) {
        deps.onExhausted?.(answer.message);
        throw new CniError(
          CniCode.TryAgainLater,
          `no IP for ${req.podNamespace ?? "?"}/${req.podName ?? "?"} yet: ${answer.message}`,
        );
      }
      const link = deps.executor.links.get(answer.eni);
      if (!link) {
        deps.store.atomically(() => {
          deps.driver.release(key);
          deps.store.deleteAttachment(key);
        });
        throw new CniError(
          CniCode.TryAgainLater,
          `IP ${answer.ip} is on ENI ${answer.eni}, whose link is not configured yet`,
        );
      }
      // One pod's wiring per turn of the event loop (runtime/net/turns.ts): the pods an arriving
      // ENI serves resume together and would otherwise hold the agent's thread for 20 ms. A DEL
      // may have come in that turn: the pod must still hold the IP it is wired with.
      await wiring.take();
      if (deps.driver.state.pods[key]?.ip !== answer.ip)
        throw new CniError(CniCode.TryAgainLater, `${pod} was deleted before its IP ${answer.ip} was wired`);
      const t2 = performance.now();
      try {
        const wired = await deps.dataPlane.wirePod({
          network: req.network,
          containerId: req.containerId,
          ifname: req.ifname,
          netns: req.netns,
          ip: answer.ip,
          table: link.table,
        });
        const t3 = performance.now();
        // Where the agent's share of an ADD goes (bench/cni.ts reads these fields): allocation
        // with its attachment record, the wait for its wiring turn, the wiring.
        const ms = { allocMs: round(t1 - t0), turnMs: round(t2 - t1), wireMs: round(t3 - t2) };
        deps.log.info("pod wired", {
          pod: `${req.podNamespace ?? ""}/${req.podName ?? ""}`,
          key,
          ip: answer.ip,
          eni: answer.eni,
          table: link.table,
          ...ms,
        });
        return addResult(answer.ip, link, wired);
      } catch (error) {
        // Nothing half-done stays behind: the wiring is undone and the IP goes back.
        await unwireAndRelease(key, req).catch(() => {});
        throw wiringFailed(req.netns, answer.ip, error);
      }
    },

    async del(req: RequestOf<"del">): Promise<ResponseOf<"del">> {
      const { ip, unwireMs, releaseMs } = await unwireAndRelease(podKey(req), req);
      if (ip) deps.log.info("pod unwired", { key: podKey(req), ip, unwireMs, releaseMs });
      return ip ? { released: ip } : {};
    },

    async check(req: RequestOf<"check">): Promise<ResponseOf<"check">> {
      const key = podKey(req);
      const assignment = deps.driver.state.pods[key];
      if (!assignment) throw new CniError(CniCode.UnknownContainer, `the agent has no IP for ${key}`);
      if (req.ip && req.ip !== assignment.ip)
        throw new CniError(CniCode.CheckFailed, `${key} has ${assignment.ip}, the runtime's result says ${req.ip}`);
      const table = deps.executor.links.get(assignment.eni)?.table;
      if (table === undefined)
        throw new CniError(CniCode.CheckFailed, `ENI ${assignment.eni} of ${key} has no configured link`);
      const problems = await deps.dataPlane.checkPod({
        network: req.network,
        containerId: req.containerId,
        ifname: req.ifname,
        netns: req.netns,
        ip: assignment.ip,
        table,
      });
      if (problems.length > 0) throw new CniError(CniCode.CheckFailed, `${key}: ${problems.join("; ")}`);
      return { ok: true };
    },

    async gc(req: RequestOf<"gc">): Promise<ResponseOf<"gc">> {
      const valid = new Set(req.validAttachments.map((a) => podKey({ network: req.network, ...a })));
      const released: ResponseOf<"gc">["released"] = [];
      for (const key of Object.keys(deps.driver.state.pods)) {
        const [network, containerId = "", ifname = ""] = key.split("/");
        if (network !== req.network || valid.has(key)) continue;
        const { ip } = await unwireAndRelease(key, { network, containerId, ifname });
        if (ip) released.push({ containerId, ifname, ip });
      }
      if (released.length > 0)
        deps.log.info("CNI GC freed attachments the runtime no longer knows", { count: released.length });
      return { released };
    },

    async owner(req: RequestOf<"owner">): Promise<ResponseOf<"owner">> {
      // An attachment that has its IP stays vpccni's, whatever the annotation says now.
      if (deps.driver.state.pods[podKey(req)]) return { owner: "vpccni", reason: "the agent holds this attachment" };
      const answer = deps.optIn?.(req) ?? {
        owner: "vpccni" as const,
        reason: "policy mode is default",
      };
      deps.log.debug("pod owner", { pod: `${req.podNamespace ?? ""}/${req.podName ?? ""}`, ...answer });
      return answer;
    },

    async status(): Promise<ResponseOf<"status">> {
      const t = now();
      const state = deps.driver.state;
      const off = deps.switchedOff?.() ?? null;
      if (off !== null) return { ready: false, idleIps: 0, message: off };
      const s = summary(state, t);
      if (s.ready > 0) return { ready: true, idleIps: s.ready };
      // No idle IP: the next pod is served only if the pool can still grow.
      const refusal = deps.noSubnetInZone?.() ?? null;
      if (refusal !== null) return { ready: false, idleIps: 0, message: refusal };
      if (s.bound + s.pendingBind >= s.maxBindable) {
        return {
          ready: false,
          idleIps: 0,
          message: `all ${s.maxBindable} IPs this node may bind are in use (${s.pods} pods); no new pod can get an IP here`,
        };
      }
      if (t < state.paused.allUntil)
        return { ready: false, idleIps: 0, message: "cloud calls are paused after the cloud refused the credentials" };
      const room = state.subnets.filter((n) => n.available > 0 && t >= n.pausedUntil);
      if (room.length === 0 && s.pendingBind === 0) {
        return {
          ready: false,
          idleIps: 0,
          message: `no pod subnet has a free IP (${state.subnets.map((n) => n.id).join(", ")}); add a subnet to the policy or free addresses`,
        };
      }
      return { ready: true, idleIps: 0 };
    },
  };
  return deps.activity ? withActivity(api, deps.activity, (key) => deps.driver.state.pods[key]?.ip) : api;
}

/** ADD and DEL marked in `activity` from their start to their end, with the IPs they touch. */
function withActivity(api: CniAgentApi, activity: PodActivity, ipOf: (key: string) => string | undefined): CniAgentApi {
  const during = async <T>(key: string, call: () => Promise<T>): Promise<T> => {
    activity.begin(key, ipOf(key));
    try {
      return await call();
    } finally {
      activity.end(key, ipOf(key));
    }
  };
  return {
    ...api,
    add: (req) => during(podKey(req), () => api.add(req)),
    del: (req) => during(podKey(req), () => api.del(req)),
  };
}
