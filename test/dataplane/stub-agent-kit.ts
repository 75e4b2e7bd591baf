// Test scaffolding, NOT the agent: serves the CNI socket protocol (runtime/cni/protocol.ts)
// with the real IprouteDataPlane and an in-memory list of IPs that the fabric has already
// assigned to the node's ENI. Enough to drive the CNI binary end to end.
import { CniCode, CniError, type CniAgentApi } from "../../runtime/cni/protocol.ts";
import { serveCni, type CniServer } from "../../runtime/cni/serve.ts";
import { POD_GATEWAY, type DataPlane, type PodSpec } from "../../runtime/net/index.ts";

export interface StubAgentOptions {
  socket: string;
  dp: DataPlane;
  eniMac: string;
  table: number;
  ips: string[];
}

export interface StubAgent extends CniServer {
  /** Attachments by "network/containerId/ifname". */
  readonly pods: Map<string, PodSpec>;
  readonly free: string[];
  /** When set, every call fails with this CNI error code (an agent in trouble). */
  failWith?: number;
}

const keyOf = (k: { network: string; containerId: string; ifname: string }) =>
  `${k.network}/${k.containerId}/${k.ifname}`;

export function startStubAgent(opts: StubAgentOptions): StubAgent {
  const pods = new Map<string, PodSpec>();
  const free = [...opts.ips];
  const release = async (spec: PodSpec) => {
    await opts.dp.unwirePod(spec, spec.ip);
    pods.delete(keyOf(spec));
    free.push(spec.ip);
  };
  const guard = () => {
    if (agent.failWith !== undefined) throw new CniError(agent.failWith, "stub agent told to fail");
  };
  const api: CniAgentApi = {
    async owner() {
      guard();
      return { owner: "vpccni", reason: "the stub agent serves every pod" };
    },
    async add(req) {
      guard();
      const existing = pods.get(keyOf(req));
      if (existing) await release(existing); // a repeated ADD starts over
      const ip = free.shift();
      if (!ip) throw new CniError(CniCode.TryAgainLater, "no idle IP on this node");
      const spec: PodSpec = {
        network: req.network,
        containerId: req.containerId,
        ifname: req.ifname,
        netns: req.netns,
        ip,
        table: opts.table,
      };
      try {
        const w = await opts.dp.wirePod(spec);
        pods.set(keyOf(req), spec);
        return {
          ip,
          prefixLength: 32,
          gateway: POD_GATEWAY,
          eniMac: opts.eniMac,
          routeTable: opts.table,
          hostVeth: w.hostVeth,
          hostMac: w.hostMac,
          podMac: w.podMac,
        };
      } catch (err) {
        free.unshift(ip);
        throw new CniError(CniCode.AgentFailure, `wiring failed: ${(err as Error).message}`);
      }
    },
    async del(req) {
      guard();
      const spec = pods.get(keyOf(req));
      if (!spec) {
        await opts.dp.unwirePod(req); // nothing recorded: still remove a veth a crash may have left
        return {};
      }
      await release(spec);
      return { released: spec.ip };
    },
    async check(req) {
      guard();
      const spec = pods.get(keyOf(req));
      if (!spec) throw new CniError(CniCode.CheckFailed, `no attachment ${keyOf(req)}`);
      if (req.ip && req.ip !== spec.ip)
        throw new CniError(CniCode.CheckFailed, `prevResult says ${req.ip}, the agent assigned ${spec.ip}`);
      const problems = await opts.dp.checkPod(spec);
      if (problems.length) throw new CniError(CniCode.CheckFailed, problems.join("; "));
      return { ok: true as const };
    },
    async gc(req) {
      guard();
      const valid = new Set(req.validAttachments.map((a) => keyOf({ network: req.network, ...a })));
      const released = [];
      for (const [k, spec] of [...pods]) {
        if (spec.network !== req.network || valid.has(k)) continue;
        await release(spec);
        released.push({ containerId: spec.containerId, ifname: spec.ifname, ip: spec.ip });
      }
      return { released };
    },
    async status() {
      guard();
      return free.length > 0
        ? { ready: true, idleIps: free.length }
        : { ready: false, idleIps: 0, message: "no idle IP on this node" };
    },
  };
  const server = serveCni(opts.socket, api);
  const agent: StubAgent = { ...server, pods, free };
  return agent;
}
