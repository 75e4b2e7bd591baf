// What the fixed-IP controller asks of the Kubernetes API: the four cluster objects of fixed IP
// mode (schema/fixed-ip-crds.ts), the pods and Nodes it serves, the ENI-subnet label on a Node
// and Events. Every write of an existing object carries the resourceVersion it read, so that
// two controllers can never both win (a 409 is a Conflict, and the pass starts over).
// compiler/controller.ts lists exactly these requests in the controller's RBAC.
import * as k8s from "@kubernetes/client-node";
import { CRD_GROUP, CRD_VERSION } from "../../schema/fixed-ip-crds.ts";

export type FixedPlural = "vpcipclaims" | "vpcips" | "vpcenis" | "nodeeniconfigs";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface KubeObject<Spec, Status> {
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

/** A pod as the controller sees it. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  /** spec.nodeName; "" while unscheduled. */
  node: string;
  hostNetwork: boolean;
  /** Succeeded or Failed: its sandbox is gone. */
  finished: boolean;
  annotations: Record<string, string>;
  owner?: OwnerReference;
}

export interface NodeInfo {
  name: string;
  uid: string;
  labels: Record<string, string>;
}

/** A write lost a race: the object changed (or appeared) since it was read. */
export class Conflict extends Error {
  override readonly name = "Conflict";
}

// biome-ignore lint/suspicious/noExplicitAny: any object of the four kinds
type AnyObject = KubeObject<any, any>;

export interface FixedKubePort {
  list<O extends AnyObject>(plural: FixedPlural): Promise<O[]>;
  get<O extends AnyObject>(plural: FixedPlural, name: string, namespace?: string): Promise<O | null>;
  /** Conflict when it exists already. */
  create<O extends AnyObject>(plural: FixedPlural, obj: O): Promise<O>;
  /** Replaces metadata and spec at metadata.resourceVersion; Conflict when it changed. */
  update<O extends AnyObject>(plural: FixedPlural, obj: O): Promise<O>;
  /** Replaces the status at metadata.resourceVersion; Conflict when it changed. */
  updateStatus<O extends AnyObject>(plural: FixedPlural, obj: O): Promise<O>;
  /** Deletes it (gone already is fine). */
  remove(plural: FixedPlural, name: string, namespace?: string): Promise<void>;
  pods(): Promise<PodInfo[]>;
  nodes(): Promise<NodeInfo[]>;
  /** Sets (value) or removes (null) one label of a Node. */
  labelNode(node: string, key: string, value: string | null): Promise<void>;
  event(
    object: { kind: "Node" | "Pod"; name: string; namespace?: string; uid?: string },
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void>;
  /**
   * Calls `onChange` whenever a pod, claim or Node changes (watches, re-opened after an error),
   * so a pass starts at once instead of at the next tick; returns the stop function.
   */
  watchChanges?(onChange: () => void): () => void;
}

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

export class FixedKubeClient implements FixedKubePort {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly watcher: k8s.Watch;

  constructor(config: k8s.KubeConfig) {
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.watcher = new k8s.Watch(config);
  }

  watchChanges(onChange: () => void): () => void {
    const paths = ["/api/v1/pods", "/api/v1/nodes", `/apis/${CRD_GROUP}/${CRD_VERSION}/vpcipclaims`];
    const open = new Map<string, AbortController>();
    let stopped = false;
    const start = (path: string) => {
      if (stopped) return;
      this.watcher
        .watch(
          path,
          { allowWatchBookmarks: false },
          () => onChange(),
          () => {
            // closed (a server timeout or an error): open it again after a breath
            if (!stopped) setTimeout(() => start(path), 1_000);
          },
        )
        .then((controller) => {
          if (stopped) controller.abort();
          else open.set(path, controller);
        })
        .catch(() => {
          if (!stopped) setTimeout(() => start(path), 1_000);
        });
    };
    for (const path of paths) start(path);
    return () => {
      stopped = true;
      for (const c of open.values()) c.abort();
    };
  }

  private at(plural: FixedPlural) {
    return { group: CRD_GROUP, version: CRD_VERSION, plural };
  }

  async list<O extends AnyObject>(plural: FixedPlural): Promise<O[]> {
    // GET /apis/group/version/plural lists a namespaced kind across every namespace as well
    const out = (await this.custom.listClusterCustomObject(this.at(plural))) as { items: O[] };
    return out.items;
  }

  async get<O extends AnyObject>(plural: FixedPlural, name: string, namespace?: string): Promise<O | null> {
    try {
      return (await (namespace
        ? this.custom.getNamespacedCustomObject({ ...this.at(plural), namespace, name })
        : this.custom.getClusterCustomObject({ ...this.at(plural), name }))) as O;
    } catch (e) {
      if (code(e) === 404) return null;
      throw e;
    }
  }

  private async guarded<R>(what: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (e) {
      if (code(e) === 409) throw new Conflict(`${what}: changed by someone else since it was read`);
      throw e;
    }
  }

  private body(plural: FixedPlural, obj: AnyObject) {
    const kind = { vpcipclaims: "VpcIPClaim", vpcips: "VpcIP", vpcenis: "VpcENI", nodeeniconfigs: "NodeENIConfig" }[
      plural
    ];
    return { apiVersion: `${CRD_GROUP}/${CRD_VERSION}`, kind, ...obj };
  }

  create<O extends AnyObject>(plural: FixedPlural, obj: O): Promise<O> {
    const { namespace, name } = obj.metadata;
    const body = this.body(plural, obj);
    return this.guarded(`create ${plural} ${namespace ? `${namespace}/` : ""}${name}`, async () =>
      namespace
        ? ((await this.custom.createNamespacedCustomObject({ ...this.at(plural), namespace, body })) as O)
        : ((await this.custom.createClusterCustomObject({ ...this.at(plural), body })) as O),
    );
  }

  update<O extends AnyObject>(plural: FixedPlural, obj: O): Promise<O> {
    const { namespace, name } = obj.metadata;
    const body = this.body(plural, obj);
    return this.guarded(`update ${plural} ${namespace ? `${namespace}/` : ""}${name}`, async () =>
      namespace
        ? ((await this.custom.replaceNamespacedCustomObject({
            ...this.at(plural),
            namespace,
            name,
            body,
          })) as O)
        : ((await this.custom.replaceClusterCustomObject({ ...this.at(plural), name, body })) as O),
    );
  }

  updateStatus<O extends AnyObject>(plural: FixedPlural, obj: O): Promise<O> {
    const { namespace, name } = obj.metadata;
    const body = this.body(plural, obj);
    return this.guarded(`update ${plural}/status ${namespace ? `${namespace}/` : ""}${name}`, async () =>
      namespace
        ? ((await this.custom.replaceNamespacedCustomObjectStatus({
            ...this.at(plural),
            namespace,
            name,
            body,
          })) as O)
        : ((await this.custom.replaceClusterCustomObjectStatus({ ...this.at(plural), name, body })) as O),
    );
  }

  async remove(plural: FixedPlural, name: string, namespace?: string): Promise<void> {
    try {
      if (namespace) await this.custom.deleteNamespacedCustomObject({ ...this.at(plural), namespace, name });
      else await this.custom.deleteClusterCustomObject({ ...this.at(plural), name });
    } catch (e) {
      if (code(e) !== 404) throw e;
    }
  }

  async pods(): Promise<PodInfo[]> {
    const list = await this.core.listPodForAllNamespaces();
    return list.items.map((p) => {
      const owner = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
      return {
        namespace: p.metadata?.namespace ?? "",
        name: p.metadata?.name ?? "",
        uid: p.metadata?.uid ?? "",
        node: p.spec?.nodeName ?? "",
        hostNetwork: p.spec?.hostNetwork === true,
        finished: p.status?.phase === "Succeeded" || p.status?.phase === "Failed",
        annotations: p.metadata?.annotations ?? {},
        ...(owner
          ? { owner: { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid } }
          : {}),
      };
    });
  }

  async nodes(): Promise<NodeInfo[]> {
    const list = await this.core.listNode();
    return list.items.map((n) => ({
      name: n.metadata?.name ?? "",
      uid: n.metadata?.uid ?? "",
      labels: n.metadata?.labels ?? {},
    }));
  }

  async labelNode(node: string, key: string, value: string | null): Promise<void> {
    await this.core.patchNode(
      { name: node, body: { metadata: { labels: { [key]: value } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  }

  async event(
    object: { kind: "Node" | "Pod"; name: string; namespace?: string; uid?: string },
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date();
    // Node events live in "default", as the kubelet's do, so `kubectl describe node` shows them
    const namespace = object.namespace ?? "default";
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${object.name}.vpccni.` },
        involvedObject: {
          apiVersion: "v1",
          kind: object.kind,
          name: object.name,
          ...(object.namespace ? { namespace: object.namespace } : {}),
          uid: object.uid ?? object.name,
        },
        type,
        reason,
        message: message.slice(0, 1000),
        source: { component: "vpccni-controller" },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }

  static load(kubeconfig?: string): FixedKubeClient {
    const config = new k8s.KubeConfig();
    if (kubeconfig) config.loadFromFile(kubeconfig);
    else config.loadFromCluster();
    return new FixedKubeClient(config);
  }
}
