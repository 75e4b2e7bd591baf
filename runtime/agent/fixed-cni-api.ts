// The agent's side of the CNI socket in fixed IP mode. The cluster controller owns the
// addresses: ADD waits (within the ADD timeout) until the pod's VpcIPClaim is bound to this
// node's ENI, then wires the pod with that address and the ENI's route table, as shared mode
// does; DEL, CHECK and GC work from the node's own record; STATUS says whether the controller
// has bound this node's ENI. No cloud mutation here, ever.
import type { VpcIPClaim } from "../../schema/fixed-ip-crds.ts";
import { type CniAgentApi, CniCode, CniError, type RequestOf, type ResponseOf } from "../cni/protocol.ts";
import type { DataPlane, EniLink } from "../net/types.ts";
import { podKey } from "../pool/index.ts";
import { addResult, wiringFailed } from "./cni-api.ts";
import { type ClaimDecision, claimDecision, claimTimeoutMessage, type NodeEniState } from "./fixed-claim.ts";
import type { Logger } from "./log.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { FixedAttachmentRecord, NodeStore } from "./store.ts";

/** How often an ADD reads the claim again while the controller has not bound it. */
export const CLAIM_POLL_MS = 250;

export interface FixedCniApiDeps {
  node: string;
  store: NodeStore;
  dataPlane: DataPlane;
  metrics: AgentMetrics;
  log: Logger;
  addTimeoutMs: number;
  /** GET of the pod's claim (null: none). */
  claim: (namespace: string, name: string) => Promise<VpcIPClaim | null>;
  /** The ENI's link, set up (found by MAC, route table filled) if it is not yet. */
  link: (eniId: string) => Promise<EniLink>;
  /** The route table of an ENI whose link is set up, else undefined. */
  table: (eniId: string) => number | undefined;
  /** This node's NodeENIConfig, read now (STATUS). */
  nodeEni: () => Promise<NodeEniState>;
  /** Why no new pod is wired (switch-off.ts), else null. */
  switchedOff: () => string | null;
  /** Mixed mode: whether a pod opted in (opt-in.ts). */
  optIn?: (req: RequestOf<"owner">) => ResponseOf<"owner">;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function fixedCniApi(deps: FixedCniApiDeps): CniAgentApi {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => Bun.sleep(ms));
  const pollMs = deps.pollMs ?? CLAIM_POLL_MS;

  async function unwire(key: string, ref: { network: string; containerId: string; ifname: string }) {
    const record = deps.store.fixedAttachment(key);
    await deps.dataPlane.unwirePod(ref, record?.ip);
    if (record) deps.store.deleteFixedAttachment(key);
    return record;
  }

  /** Polls the claim until it is usable here or the ADD timeout passes. */
  async function waitForClaim(ask: Parameters<typeof claimDecision>[1]) {
    const started = now();
    const deadline = started + deps.addTimeoutMs;
    let last: ClaimDecision | { error: string } = { use: false, reason: "not read yet" };
    for (;;) {
      try {
        last = claimDecision(await deps.claim(ask.namespace, ask.name), ask);
        if (last.use) return last;
      } catch (error) {
        last = { error: (error as Error).message };
      }
      if (now() + pollMs > deadline) break;
      await sleep(pollMs);
    }
    throw new CniError(CniCode.TryAgainLater, claimTimeoutMessage(ask, last, now() - started));
  }

  return {
    async add(req: RequestOf<"add">): Promise<ResponseOf<"add">> {
      const key = podKey(req);
      const started = now();
      const known = deps.store.fixedAttachment(key);
      const off = deps.switchedOff();
      if (off !== null && !known) {
        deps.metrics.allocation(false, 0);
        throw new CniError(CniCode.SwitchedOff, `no IP for ${req.podNamespace ?? "?"}/${req.podName ?? "?"}: ${off}`);
      }
      const namespace = req.podNamespace ?? known?.namespace;
      const name = req.podName ?? known?.name;
      if (!namespace || !name)
        throw new CniError(
          CniCode.InvalidEnvironment,
          "fixed IP mode looks the pod's VpcIPClaim up by CNI_ARGS K8S_POD_NAMESPACE and K8S_POD_NAME, and this ADD has none",
        );
      const podUid = req.podUid ?? known?.podUid ?? undefined;
      // A repeated ADD of an attachment already wired keeps its address (the runtime may repeat one).
      let claimed: { address: string; eniId: string };
      try {
        claimed = known
          ? { address: known.ip, eniId: known.eniId }
          : await waitForClaim({ namespace, name, node: deps.node, ...(podUid ? { podUid } : {}) });
      } catch (error) {
        deps.metrics.allocation(false, now() - started);
        throw error;
      }
      deps.metrics.allocation(true, now() - started);
      let link: EniLink;
      try {
        link = await deps.link(claimed.eniId);
      } catch (error) {
        throw new CniError(
          CniCode.TryAgainLater,
          `pod ${namespace}/${name}'s address ${claimed.address} is on ENI ${claimed.eniId}, whose link is not usable on node ${deps.node} yet: ${(error as Error).message}`,
        );
      }
      // The address is this pod's now: an attachment of this node still holding it is a pod
      // sandbox whose DEL never came (the same pod name, an earlier sandbox). Unwire it first.
      for (const other of deps.store.fixedAttachments()) {
        if (other.key === key || other.ip !== claimed.address) continue;
        const [network = "", containerId = "", ifname = ""] = other.key.split("/");
        deps.log.warn("unwiring an earlier attachment that holds the claimed address", {
          address: claimed.address,
          earlier: other.key,
          pod: `${namespace}/${name}`,
        });
        await unwire(other.key, { network, containerId, ifname });
      }
      const record: FixedAttachmentRecord = {
        key,
        netns: req.netns,
        namespace,
        name,
        podUid: podUid ?? null,
        ip: claimed.address,
        eniId: claimed.eniId,
        createdAt: known?.createdAt ?? now(),
      };
      // Recorded before wiring: a crash in between leaves a record DEL can undo.
      deps.store.putFixedAttachment(record);
      try {
        const wiring = await deps.dataPlane.wirePod({
          network: req.network,
          containerId: req.containerId,
          ifname: req.ifname,
          netns: req.netns,
          ip: claimed.address,
          table: link.table,
        });
        deps.log.info("pod wired", {
          pod: `${namespace}/${name}`,
          key,
          ip: claimed.address,
          eni: claimed.eniId,
          table: link.table,
          ms: now() - started,
        });
        return addResult(claimed.address, link, wiring);
      } catch (error) {
        // Nothing half-done stays behind.
        await unwire(key, req).catch(() => {});
        throw wiringFailed(req.netns, claimed.address, error);
      }
    },

    async del(req: RequestOf<"del">): Promise<ResponseOf<"del">> {
      const record = await unwire(podKey(req), req);
      if (record) deps.log.info("pod unwired", { key: record.key, ip: record.ip, eni: record.eniId });
      return record ? { released: record.ip } : {};
    },

    async check(req: RequestOf<"check">): Promise<ResponseOf<"check">> {
      const key = podKey(req);
      const record = deps.store.fixedAttachment(key);
      if (!record) throw new CniError(CniCode.UnknownContainer, `the agent has no address for ${key}`);
      if (req.ip && req.ip !== record.ip)
        throw new CniError(CniCode.CheckFailed, `${key} has ${record.ip}, the runtime's result says ${req.ip}`);
      const table = deps.table(record.eniId);
      if (table === undefined)
        throw new CniError(CniCode.CheckFailed, `ENI ${record.eniId} of ${key} has no configured link`);
      const problems = await deps.dataPlane.checkPod({
        network: req.network,
        containerId: req.containerId,
        ifname: req.ifname,
        netns: req.netns,
        ip: record.ip,
        table,
      });
      if (problems.length > 0) throw new CniError(CniCode.CheckFailed, `${key}: ${problems.join("; ")}`);
      return { ok: true };
    },

    async gc(req: RequestOf<"gc">): Promise<ResponseOf<"gc">> {
      const valid = new Set(req.validAttachments.map((a) => podKey({ network: req.network, ...a })));
      const released: ResponseOf<"gc">["released"] = [];
      for (const record of deps.store.fixedAttachments()) {
        const [network, containerId = "", ifname = ""] = record.key.split("/");
        if (network !== req.network || valid.has(record.key)) continue;
        await unwire(record.key, { network, containerId, ifname });
        released.push({ containerId, ifname, ip: record.ip });
      }
      if (released.length > 0)
        deps.log.info("CNI GC unwired attachments the runtime no longer knows", { count: released.length });
      return { released };
    },

    async owner(req: RequestOf<"owner">): Promise<ResponseOf<"owner">> {
      if (deps.store.fixedAttachment(podKey(req)))
        return { owner: "vpccni", reason: "the agent holds this attachment" };
      return deps.optIn?.(req) ?? { owner: "vpccni", reason: "policy mode is default" };
    },

    async status(): Promise<ResponseOf<"status">> {
      const off = deps.switchedOff();
      if (off !== null) return { ready: false, idleIps: 0, message: off };
      const eni = await deps.nodeEni();
      return eni.ready ? { ready: true, idleIps: 0 } : { ready: false, idleIps: 0, message: eni.message };
    },
  };
}
