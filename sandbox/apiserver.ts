// A real etcd + kube-apiserver on loopback for tests: RBAC, static token authentication,
// service-account token signing. No controller-manager runs, so namespaces never finish
// deleting and nothing is garbage-collected: use a fresh namespace per test.
// With `controlPlane`, it is a whole control plane for real nodes (sandbox/kubelet.ts):
// kube-controller-manager (Deployments, DaemonSets, ServiceAccounts, node lifecycle, garbage
// collection) and kube-scheduler run too, the ServiceAccount admission plugin is on, and
// kubelets authenticate with client certificates of the test CA under the Node authorizer.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "./paths.ts";
import { requireBinary, requireKube } from "./prereq.ts";
import { freePort } from "./ports.ts";
import { onProcessExit, spawnManaged, type ManagedProcess } from "./process.ts";
import { writeKubeconfig, type Kubeconfig } from "./kubeconfig.ts";
import { kubeCall } from "./kube-api.ts";
import { issueClientCert, issueServingCert } from "./serving-cert.ts";
import { makeTempDir } from "./janitor.ts";
import { nthAddress } from "./ipv4.ts";
import { exposeFromNetns, type NetnsExpose } from "./netns-expose.ts";
import type { NodeNs, TestBed } from "./test-bed.ts";

export interface ServiceAccountOptions {
  /** Namespace of the ServiceAccount; created when missing. Default "vpccni-test-sa". */
  namespace?: string;
  /** ServiceAccount name; default derived from the role. */
  name?: string;
  /** Token lifetime; the API server's minimum is 600. Default 3600. */
  expirationSeconds?: number;
}

export interface Cluster {
  /** Admin (system:masters) access. */
  admin: Kubeconfig;
  /** e.g. https://127.0.0.1:PORT */
  server: string;
  /** Working directory (kubeconfigs, logs of etcd and kube-apiserver). */
  dir: string;
  /**
   * PEM file of the CA that signed the serving certificate: the per-machine test CA
   * (paths.testCaCert), the same for every test cluster. Bun processes using
   * @kubernetes/client-node need it as NODE_EXTRA_CA_CERTS: under Bun that library ignores
   * the kubeconfig's CA (see docs/testing.md).
   */
  caFile: string;
  /**
   * A kubeconfig whose token belongs to a ServiceAccount bound (ClusterRoleBinding) to
   * `clusterRole`, which must exist: a process using it has exactly that role's permissions.
   */
  serviceAccountKubeconfig(clusterRole: string, opts?: ServiceAccountOptions): Promise<Kubeconfig>;
  /**
   * A kubeconfig for node `name`'s kubelet: a client certificate of the test CA for
   * system:node:<name> in system:nodes (only with `controlPlane`). `server` overrides the URL
   * (the kubelet reaches the API server through a forward on its node's loopback).
   */
  nodeKubeconfig(name: string, server?: string): Promise<Kubeconfig>;
  /** Whether kube-controller-manager and kube-scheduler run (StartClusterOptions.controlPlane). */
  controlPlane: boolean;
  /** With `bed`: the API server's address in the VPC (https://<ip>:6443), and its namespace. */
  vpcServer?: string;
  vpcNode?: NodeNs;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** How long to wait for /readyz. Default 90 s (a cold 2-core machine is slow). */
  readyTimeoutMs?: number;
  /** Also run kube-controller-manager and kube-scheduler, for real nodes. Default false. */
  controlPlane?: boolean;
  /**
   * Run the control plane in the VPC of this test bed, as a managed control plane is: a
   * namespace of its own (an eth0 on the VPC router), so the API server reaches nodes and pods
   * (webhooks behind Services) and kubelets reach it at `vpcServer`. The host reaches it at
   * `server` through a forward (sandbox/netns-expose.ts). Needs `controlPlane`.
   */
  bed?: TestBed;
}

/**
 * The controllers a real-node test needs: workloads, ServiceAccounts and their CA ConfigMap,
 * the not-ready taints kubelet registers with, eviction, garbage collection, endpoints. No cloud,
 * IPAM, route, volume or service-LB controller: the cluster has no cloud provider.
 */
export const CONTROLLERS = [
  "daemonset-controller",
  "deployment-controller",
  // fixed IP mode's suites: a StatefulSet's pod re-created with its name
  "statefulset-controller",
  "replicaset-controller",
  "serviceaccount-controller",
  "root-ca-certificate-publisher-controller",
  "garbage-collector-controller",
  "namespace-controller",
  "node-lifecycle-controller",
  "taint-eviction-controller",
  "pod-garbage-collector-controller",
  "disruption-controller",
  // Services' endpoints: the API server dials a webhook's Service at them
  "endpoints-controller",
  "endpointslice-controller",
];

const ISSUER = "https://kubernetes.default.svc.cluster.local";

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  requireKube();
  // a port taken between freePort() and bind is the only expected start failure
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts.readyTimeoutMs ?? 90_000, opts.controlPlane ?? false, opts.bed);
    } catch (err) {
      lastErr = err;
      if (!(err instanceof StartError) || !err.portClash) throw err;
    }
  }
  throw lastErr;
}

class StartError extends Error {
  override name = "StartError";
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

/** The control plane's address in a test bed's VPC: far from the nodes (.11, .12, ...). */
const VPC_HOST = 250;
const VPC_API_PORT = 6443;

async function startOnce(readyTimeoutMs: number, controlPlane: boolean, bed?: TestBed): Promise<Cluster> {
  if (controlPlane) requireControlPlane();
  if (bed && !controlPlane) throw new Error("startCluster: `bed` needs `controlPlane: true`");
  const dir = makeTempDir("kube");
  const procs: ManagedProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await expose?.stop();
    for (const p of procs.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // process exit handlers must be synchronous: processes are killed by process.ts' own hook
  onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  let expose: NetnsExpose | undefined;
  try {
    const vpcNode = bed ? await bed.addNode({ name: "cp", ip: nthAddress(bed.subnet, VPC_HOST) }) : undefined;
    /** Inside the control plane's namespace, when there is one. */
    const inNs = (cmd: string[]) => (vpcNode ? ["ip", "netns", "exec", vpcNode.ns, ...cmd] : cmd);
    const etcdPort = vpcNode ? 2379 : await freePort();
    const apiPort = vpcNode ? VPC_API_PORT : await freePort();
    const etcd = spawnManaged(
      "etcd",
      inNs([
        paths.etcd,
        "--name",
        "vpccni-test",
        "--data-dir",
        join(dir, "etcd"),
        "--listen-client-urls",
        `http://127.0.0.1:${etcdPort}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${etcdPort}`,
        "--initial-advertise-peer-urls",
        "http://localhost:2380",
        "--initial-cluster",
        "vpccni-test=http://localhost:2380",
        // port 0: no peer traffic in a one-member cluster, and no clash between clusters
        "--listen-peer-urls",
        "http://localhost:0",
        "--unsafe-no-fsync",
        "--log-level",
        "warn",
      ]),
      { log: join(dir, "etcd.log") },
    );
    procs.push(etcd);
    // in the VPC, etcd is not reachable from here: the API server's readiness covers it
    if (!vpcNode)
      await waitFor(`etcd on 127.0.0.1:${etcdPort}`, etcd, readyTimeoutMs, async () => {
        const res = await fetch(`http://127.0.0.1:${etcdPort}/health`);
        return res.ok && ((await res.json()) as { health?: string }).health === "true";
      });

    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyFile = join(dir, "sa.key");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
    const adminToken = randomBytes(24).toString("hex");
    const tokenFile = join(dir, "tokens.csv");
    writeFileSync(tokenFile, `${adminToken},vpccni-admin,vpccni-admin,"system:masters"\n`, { mode: 0o600 });
    const serving = await issueServingCert(dir, vpcNode ? [vpcNode.ip] : []);

    const api = spawnManaged(
      "kube-apiserver",
      inNs([
        paths.kubeApiserver,
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        ...(vpcNode
          ? ["--bind-address=0.0.0.0", `--advertise-address=${vpcNode.ip}`]
          : ["--bind-address=127.0.0.1", "--advertise-address=127.0.0.1"]),
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${serving.cert}`,
        `--tls-private-key-file=${serving.key}`,
        `--service-account-issuer=${ISSUER}`,
        `--service-account-key-file=${keyFile}`,
        `--service-account-signing-key-file=${keyFile}`,
        `--token-auth-file=${tokenFile}`,
        "--service-cluster-ip-range=10.96.0.0/24",
        ...(controlPlane
          ? [
              "--authorization-mode=Node,RBAC",
              `--client-ca-file=${paths.testCaCert}`,
              "--enable-admission-plugins=NodeRestriction",
              // webhooks behind Services are dialled at their endpoints: no kube-proxy here
              "--enable-aggregator-routing=true",
            ]
          : ["--authorization-mode=RBAC", "--disable-admission-plugins=ServiceAccount"]),
        "--v=1",
      ]),
      { log: join(dir, "kube-apiserver.log") },
    );
    procs.push(api);

    if (vpcNode)
      expose = await exposeFromNetns({ bed: bed!, ns: vpcNode.ns, target: { host: "127.0.0.1", port: apiPort } });
    const server = `https://127.0.0.1:${expose ? expose.port : apiPort}`;
    const ca = readFileSync(paths.testCaCert, "utf8");
    await waitFor(`kube-apiserver on ${server}`, api, readyTimeoutMs, async () => {
      const res = await fetch(`${server}/readyz`, {
        headers: { authorization: `Bearer ${adminToken}` },
        tls: { ca },
      });
      return res.ok;
    });
    const admin = writeKubeconfig(join(dir, "admin.kubeconfig"), {
      server,
      ca,
      token: adminToken,
      user: "vpccni-admin",
    });
    const caFile = paths.testCaCert;
    // components next to the API server talk to it on their own loopback
    const local = vpcNode
      ? writeKubeconfig(join(dir, "admin-local.kubeconfig"), {
          server: `https://127.0.0.1:${apiPort}`,
          ca,
          token: adminToken,
          user: "vpccni-admin",
        })
      : admin;
    if (controlPlane) {
      procs.push(
        spawnManaged(
          "kube-controller-manager",
          inNs([
            paths.kubeControllerManager,
            `--kubeconfig=${local.path}`,
            `--authentication-kubeconfig=${local.path}`,
            `--authorization-kubeconfig=${local.path}`,
            `--controllers=${CONTROLLERS.join(",")}`,
            `--root-ca-file=${paths.testCaCert}`,
            `--service-account-private-key-file=${keyFile}`,
            "--use-service-account-credentials=false",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            `--secure-port=${await freePort()}`,
            `--cert-dir=${join(dir, "kcm-certs")}`,
            // a kubelet that stopped is seen soon, and its pods evicted soon (tests drain nodes)
            "--node-monitor-grace-period=20s",
            "--v=1",
          ]),
          { log: join(dir, "kube-controller-manager.log") },
        ),
      );
      procs.push(
        spawnManaged(
          "kube-scheduler",
          inNs([
            paths.kubeScheduler,
            `--kubeconfig=${local.path}`,
            `--authentication-kubeconfig=${local.path}`,
            `--authorization-kubeconfig=${local.path}`,
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            `--secure-port=${await freePort()}`,
            `--cert-dir=${join(dir, "scheduler-certs")}`,
            "--v=1",
          ]),
          { log: join(dir, "kube-scheduler.log") },
        ),
      );
    }

    let saCount = 0;
    let nodeCount = 0;
    return {
      admin,
      server,
      dir,
      caFile,
      controlPlane,
      ...(vpcNode ? { vpcServer: `https://${vpcNode.ip}:${apiPort}`, vpcNode } : {}),
      stop,
      async nodeKubeconfig(name, url = server) {
        if (!controlPlane) throw new Error("nodeKubeconfig needs a cluster started with controlPlane: true");
        const files = await issueClientCert(dir, `kubelet-${++nodeCount}`, `system:node:${name}`, "system:nodes");
        return writeKubeconfig(join(dir, `kubelet-${nodeCount}.kubeconfig`), {
          server: url,
          ca,
          token: "",
          user: `system:node:${name}`,
          clientCert: files,
        });
      },
      async serviceAccountKubeconfig(clusterRole, saOpts = {}) {
        const namespace = saOpts.namespace ?? "vpccni-test-sa";
        const name = saOpts.name ?? `${clusterRole.replace(/[^a-z0-9-]/g, "-").slice(0, 40)}-${++saCount}`;
        await kubeCall(admin, "POST", "/api/v1/namespaces", {
          body: { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
          allow: [409],
        });
        await kubeCall(admin, "POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, {
          body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } },
          allow: [409],
        });
        await kubeCall(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
          body: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: `${namespace}-${name}` },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
          },
          allow: [409],
        });
        const tr = await kubeCall(admin, "POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: saOpts.expirationSeconds ?? 3600 },
          },
        });
        const token = tr.json?.status?.token;
        if (typeof token !== "string")
          throw new Error(`TokenRequest for ${namespace}/${name} gave no token: ${JSON.stringify(tr.json)}`);
        return writeKubeconfig(join(dir, `sa-${namespace}-${name}.kubeconfig`), {
          server,
          ca,
          token,
          user: `system:serviceaccount:${namespace}:${name}`,
          namespace,
        });
      },
    };
  } catch (err) {
    const logs = procs.map((p) => `--- ${p.name} log (last lines) ---\n${tail(p.log)}`).join("\n");
    await stop();
    if (err instanceof StartError) throw new StartError(`${err.message}\n${logs}`, err.portClash);
    throw err;
  }
}

/** kube-controller-manager and kube-scheduler from the cache (scripts/build-kube.sh). */
export function requireControlPlane(): void {
  requireBinary("kube-controller-manager", paths.kubeControllerManager);
  requireBinary("kube-scheduler", paths.kubeScheduler);
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `ready` until it returns true; fails early when the process exits. */
async function waitFor(
  what: string,
  proc: ManagedProcess,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | undefined;
  proc.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      const log = tail(proc.log, 200);
      throw new StartError(
        `${what}: exited with code ${exitCode} before it was ready`,
        /address already in use/.test(log),
      );
    }
    try {
      if (await ready()) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(200);
  }
  throw new StartError(`${what}: not ready after ${timeoutMs} ms`, false);
}
