// The end of a pass: the cluster objects made to say what the allocator's state says. Claims
// show Bound (with the pod's uid), Kept (with when they expire) or why their pod waits; a
// released claim loses its finalizer and goes; a VpcIP shows its ENI, or goes with its address;
// each node's NodeENIConfig shows its ENI and the Node carries the ENI's subnet as a label (the
// webhook's placement rule reads it). Only what differs is written, each write at the
// resourceVersion read, so a pass that raced another writer fails with Conflict and is redone.
import type { FixedState } from "../fixed/index.ts";
import type { FixedKubePort, NodeInfo, PodInfo } from "../kube/fixed-client.ts";
import { CLAIM_FINALIZER, ENI_SUBNET_LABEL } from "../../schema/names.ts";
import type { Objects } from "./fixed-apply.ts";
import type { Address, Claim, NodeConfig, NodeEni } from "./fixed-state.ts";

export interface WriteBackInput {
  kube: FixedKubePort;
  state: FixedState;
  objects: Objects;
  nodes: NodeInfo[];
  /** Served pods by "namespace/name". */
  pods: Map<string, PodInfo>;
  /** Why a pod or node was refused this pass, by "namespace/name" or "node/name". */
  refused: Map<string, string>;
  /** The Event reason of a refused node ("node/name") when not NoSubnetFits. */
  reasons?: Map<string, string>;
  now: number;
  /** false: switched off: NodeENIConfigs of nodes without an ENI go too. */
  enabled?: boolean;
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
}

/** Codes that mean "not yet" rather than "cannot": the claim stays Pending, not Failed. */
const WAITING = [/has no ENI bound/, /ENI is still being created/];

/** Equal as JSON, whatever the key order (the API server returns an object's keys sorted). */
const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v !== null && typeof v === "object"
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, x]) => [k, canonical(x)]),
        )
      : v;
const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b ?? {}));

export async function writeBack(input: WriteBackInput): Promise<void> {
  const { kube, state, objects, pods, refused } = input;
  const nodeOfEni = new Map(Object.entries(state.nodes).map(([node, n]) => [n.eni, node]));

  for (const [key, claim] of objects.claims) {
    const held = state.claims.get(key);
    const pod = pods.get(key);
    let status: Claim["status"];
    if (held) {
      const address = state.addresses.get(held.address);
      const eni = address?.eni ?? null;
      status = {
        phase: held.node ? "Bound" : "Kept",
        address: held.address,
        subnet: address?.subnet,
        ...(held.node ? { node: held.node } : {}),
        ...(eni ? { eniId: eni } : {}),
        ...(held.node && pod ? { podUID: pod.uid } : {}),
        ...(held.expiresAt !== null ? { expiresAt: new Date(held.expiresAt).toISOString() } : {}),
      };
      // a kept address its new pod cannot have where it runs (another subnet, the ENI full)
      const why = refused.get(key);
      if (!held.node && pod && why) status = { ...status, phase: "Failed", message: why };
    } else if (pod && claim.metadata.deletionTimestamp === undefined) {
      const why = refused.get(key);
      status = {
        phase: why && !WAITING.some((w) => w.test(why)) ? "Failed" : "Pending",
        node: pod.node,
        message: why ?? "waiting for an address",
      };
    } else {
      // released: the claim goes (its finalizer was what kept it)
      await releaseClaim(kube, claim);
      objects.claims.delete(key);
      continue;
    }
    if (!same(status, claim.status))
      objects.claims.set(key, await kube.updateStatus<Claim>("vpcipclaims", { ...claim, status }));
  }

  for (const [ip, vip] of objects.addresses) {
    const a = state.addresses.get(ip);
    if (!a) {
      await kube.remove("vpcips", ip);
      objects.addresses.delete(ip);
      continue;
    }
    const node = a.eni ? nodeOfEni.get(a.eni) : undefined;
    const status = a.eni
      ? { phase: "Attached" as const, eniId: a.eni, ...(node ? { node } : {}) }
      : { phase: "Reserved" as const };
    if (!same(status, vip.status))
      objects.addresses.set(ip, await kube.updateStatus<Address>("vpcips", { ...vip, status }));
  }

  const labels = new Map(input.nodes.map((n) => [n.name, n.labels]));
  const onEni = new Map<string, number>();
  for (const a of state.addresses.values()) if (a.eni !== null) onEni.set(a.eni, (onEni.get(a.eni) ?? 0) + 1);
  for (const [node, n] of Object.entries(state.nodes)) {
    const eni = objects.enis.get(node);
    if (eni && n.eni) {
      const assigned = onEni.get(n.eni) ?? 0;
      if (eni.status?.assignedIPs !== assigned)
        objects.enis.set(
          node,
          await kube.updateStatus<NodeEni>("vpcenis", { ...eni, status: { ...eni.status, assignedIPs: assigned } }),
        );
    }
    const config = objects.configs.get(node);
    if (config && n.eni) {
      const status = { eni: node, eniId: n.eni, subnet: n.subnet };
      if (!same(status, config.status))
        objects.configs.set(node, await kube.updateStatus<NodeConfig>("nodeeniconfigs", { ...config, status }));
    }
    if (n.eni && labels.has(node) && labels.get(node)?.[ENI_SUBNET_LABEL] !== n.subnet)
      await kube.labelNode(node, ENI_SUBNET_LABEL, n.subnet);
  }
  // A node that gave its ENI back (switched off) loses the subnet label: no placement rule leads there.
  for (const n of input.nodes) {
    if (n.labels[ENI_SUBNET_LABEL] !== undefined && !state.nodes[n.name])
      await kube.labelNode(n.name, ENI_SUBNET_LABEL, null);
  }
  // A node whose ENI could not be bound says why in its NodeENIConfig (with the current figures),
  // and in an Event once per change of the reason: free counts that move with every pod do not
  // make a new Event each pass.
  for (const [node, config] of objects.configs) {
    const why = refused.get(`node/${node}`);
    const was = config.status?.message;
    if (!why || state.nodes[node] || was === why) continue;
    objects.configs.set(
      node,
      await kube.updateStatus<NodeConfig>("nodeeniconfigs", { ...config, status: { message: why } }),
    );
    if (was !== undefined && withoutFigures(was) === withoutFigures(why)) continue;
    await kube
      .event({ kind: "Node", name: node }, "Warning", input.reasons?.get(`node/${node}`) ?? "NoSubnetFits", why)
      .catch((e: unknown) => input.log.warn("could not record an Event", { node, error: (e as Error).message }));
  }
  // NodeENIConfigs of Nodes that are gone (or of every node, switched off) and hold no ENI
  // (removeNode deleted the others').
  const alive = new Set(input.enabled === false ? [] : input.nodes.map((n) => n.name));
  for (const node of [...objects.configs.keys()]) {
    if (alive.has(node) || objects.enis.has(node)) continue;
    await kube.remove("nodeeniconfigs", node);
    objects.configs.delete(node);
  }
}

/** A refusal's text with its numbers blanked: the same reason whatever the free counts. */
const withoutFigures = (message: string) => message.replace(/\d+/g, "#");

/** Drops the controller's finalizer; deletes the claim unless someone already is. */
async function releaseClaim(kube: FixedKubePort, claim: Claim): Promise<void> {
  const finalizers = (claim.metadata.finalizers ?? []).filter((f) => f !== CLAIM_FINALIZER);
  if (finalizers.length !== (claim.metadata.finalizers ?? []).length)
    claim = await kube.update<Claim>("vpcipclaims", { ...claim, metadata: { ...claim.metadata, finalizers } });
  if (claim.metadata.deletionTimestamp === undefined)
    await kube.remove("vpcipclaims", claim.metadata.name, claim.metadata.namespace);
}
