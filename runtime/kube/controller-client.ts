// What `vpccni controller` asks of the Kubernetes API: its webhook's TLS Secret (read, create,
// replace with optimistic concurrency) and the caBundle of its own MutatingWebhookConfiguration.
// compiler/controller-rbac.ts lists exactly these requests; the generated roles allow nothing else.
import * as k8s from "@kubernetes/client-node";

export interface TlsSecret {
  data: Record<string, string>;
  resourceVersion: string;
}

export interface Lease {
  holder: string;
  /** Last renewal, ms. */
  renewedAt: number;
  durationMs: number;
  resourceVersion: string;
}

export interface LeasePort {
  getLease(namespace: string, name: string): Promise<Lease | null>;
  /** false when another replica created it first. */
  createLease(namespace: string, name: string, holder: string, durationMs: number, now: number): Promise<boolean>;
  /** false on a conflict (the Lease changed since `resourceVersion`). */
  updateLease(
    namespace: string,
    name: string,
    holder: string,
    durationMs: number,
    now: number,
    resourceVersion: string,
  ): Promise<boolean>;
}

export interface ControllerKubePort extends LeasePort {
  /** Names of the cluster's Nodes (the departed-ENI sweep keeps what they own). */
  nodeNames(): Promise<string[]>;
  /** The Secret's data (decoded), or null when it does not exist. */
  getSecret(namespace: string, name: string): Promise<TlsSecret | null>;
  /** Creates it; false when another replica did first (409). */
  createSecret(namespace: string, name: string, data: Record<string, string>): Promise<boolean>;
  /** Replaces it at `resourceVersion`; false on a conflict (another replica changed it). */
  replaceSecret(
    namespace: string,
    name: string,
    data: Record<string, string>,
    resourceVersion: string,
  ): Promise<boolean>;
  /** Sets every webhook's clientConfig.caBundle; returns how many changed (0: already set). */
  setCaBundle(configuration: string, caPem: string): Promise<number>;
}

const status = (e: unknown): number | undefined => (e as { code?: number }).code;

export class ControllerKubeClient implements ControllerKubePort {
  private readonly core: k8s.CoreV1Api;
  private readonly admission: k8s.AdmissionregistrationV1Api;
  private readonly coordination: k8s.CoordinationV1Api;

  constructor(config: k8s.KubeConfig) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.admission = config.makeApiClient(k8s.AdmissionregistrationV1Api);
    this.coordination = config.makeApiClient(k8s.CoordinationV1Api);
  }

  async nodeNames(): Promise<string[]> {
    const list = await this.core.listNode();
    return list.items.map((n) => n.metadata?.name ?? "").filter((n) => n !== "");
  }

  async getLease(namespace: string, name: string): Promise<Lease | null> {
    try {
      const l = await this.coordination.readNamespacedLease({ namespace, name });
      const renew = l.spec?.renewTime ? new Date(l.spec.renewTime as unknown as string).getTime() : 0;
      return {
        holder: l.spec?.holderIdentity ?? "",
        renewedAt: Number.isFinite(renew) ? renew : 0,
        durationMs: (l.spec?.leaseDurationSeconds ?? 15) * 1000,
        resourceVersion: l.metadata?.resourceVersion ?? "",
      };
    } catch (e) {
      if (status(e) === 404) return null;
      throw e;
    }
  }

  private lease(name: string, holder: string, durationMs: number, now: number, resourceVersion?: string): k8s.V1Lease {
    // MicroTime: RFC 3339 with exactly six fractional digits, which the API server insists on
    const time = new Date(now).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z") as unknown as k8s.V1MicroTime;
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: Math.ceil(durationMs / 1000),
        renewTime: time,
        ...(resourceVersion ? {} : { acquireTime: time }),
      },
    };
  }

  async createLease(namespace: string, name: string, holder: string, durationMs: number, now: number) {
    try {
      await this.coordination.createNamespacedLease({ namespace, body: this.lease(name, holder, durationMs, now) });
      return true;
    } catch (e) {
      if (status(e) === 409) return false;
      throw e;
    }
  }

  async updateLease(
    namespace: string,
    name: string,
    holder: string,
    durationMs: number,
    now: number,
    resourceVersion: string,
  ) {
    try {
      await this.coordination.replaceNamespacedLease({
        namespace,
        name,
        body: this.lease(name, holder, durationMs, now, resourceVersion),
      });
      return true;
    } catch (e) {
      if (status(e) === 409) return false;
      throw e;
    }
  }

  static load(kubeconfig?: string): ControllerKubeClient {
    const config = new k8s.KubeConfig();
    if (kubeconfig) config.loadFromFile(kubeconfig);
    else config.loadFromCluster();
    return new ControllerKubeClient(config);
  }

  async getSecret(namespace: string, name: string): Promise<TlsSecret | null> {
    try {
      const s = await this.core.readNamespacedSecret({ namespace, name });
      const data = Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
      );
      return { data, resourceVersion: s.metadata?.resourceVersion ?? "" };
    } catch (e) {
      if (status(e) === 404) return null;
      throw e;
    }
  }

  private body(name: string, data: Record<string, string>, resourceVersion?: string): k8s.V1Secret {
    return {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: {
        name,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { "app.kubernetes.io/name": "vpccni", "app.kubernetes.io/component": "controller" },
      },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    };
  }

  async createSecret(namespace: string, name: string, data: Record<string, string>): Promise<boolean> {
    try {
      await this.core.createNamespacedSecret({ namespace, body: this.body(name, data) });
      return true;
    } catch (e) {
      if (status(e) === 409) return false;
      throw e;
    }
  }

  async replaceSecret(namespace: string, name: string, data: Record<string, string>, resourceVersion: string) {
    try {
      await this.core.replaceNamespacedSecret({ namespace, name, body: this.body(name, data, resourceVersion) });
      return true;
    } catch (e) {
      if (status(e) === 409) return false;
      throw e;
    }
  }

  async setCaBundle(configuration: string, caPem: string): Promise<number> {
    const want = Buffer.from(caPem).toString("base64");
    const c = await this.admission.readMutatingWebhookConfiguration({ name: configuration });
    const stale = (c.webhooks ?? []).map((w, i) => ({ w, i })).filter(({ w }) => w.clientConfig.caBundle !== want);
    if (stale.length === 0) return 0;
    // a JSON patch guarded by the resourceVersion: a concurrent change makes it fail, not clobber
    const patch = [
      { op: "test", path: "/metadata/resourceVersion", value: c.metadata?.resourceVersion },
      ...stale.map(({ i }) => ({ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: want })),
    ];
    await this.admission.patchMutatingWebhookConfiguration(
      { name: configuration, body: patch },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    return stale.length;
  }
}
