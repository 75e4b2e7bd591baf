// The compiled DaemonSet's agent pod on one test-bed node, as kubelet would run it through the
// CRI: a hostNetwork pod sandbox (the node's network namespace, where containerd runs), the
// agent container from the image with the DaemonSet's command, env, mounts and security
// context, and what only kubelet adds: downward-API values, a pod-bound ServiceAccount token
// with the test CA at the in-cluster path, KUBERNETES_SERVICE_HOST/PORT, hostPaths mapped to
// the test's folders. The emulator and the API server listen on the host's loopback; a forward
// (sandbox/netns-forward.ts) offers each on the same port on the node namespace's loopback.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileToDir } from "../../compiler/index.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { Containerd, type PodStatus } from "../../sandbox/containerd.ts";
import type { EmulatedNode } from "../../sandbox/emulated-cluster.ts";
import { policyYaml } from "../../sandbox/emulated-cloud.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { forwardIntoNetns, type NetnsForward } from "../../sandbox/netns-forward.ts";
import { paths } from "../../sandbox/paths.ts";
import { agentPod, kubectl, serviceAccountToken, wave } from "../compiler/deploy-kit.ts";
import { criContainer } from "./daemonset-kit.ts";

export interface AgentPodOptions {
  runtime: Containerd;
  node: EmulatedNode;
  cluster: Cluster;
  /** The compiled output holding the DaemonSet and the policy ConfigMap. */
  deployDir: string;
  /** Kubernetes namespace the output was compiled for. */
  namespace: string;
  policy: string;
}

export interface AgentPod {
  pod: PodStatus;
  containerId: string;
  /** The container config crictl got (for the test to compare with the DaemonSet). */
  config: Record<string, any>;
  forwards: NetnsForward[];
}

/**
 * A policy for the sandbox's cloud compiled for `namespace` into `<temp>/deploy` (returned), and
 * its objects applied to the cluster wave by wave as GitOps would. The field manager is
 * test/compiler's: the cluster-wide objects (ClusterRole, its binding, the admission policy)
 * have fixed names, so suites of one test process take them over from each other.
 */
export async function compileAndApply(
  cluster: Cluster,
  input: { policy: string; spec: Record<string, unknown>; namespace: string },
): Promise<string> {
  const source = makeTempDir("ctr-deploy");
  mkdirSync(join(source, "policies"));
  writeFileSync(join(source, "policies", `${input.policy}.yaml`), policyYaml(input.policy, input.spec));
  const out = await compileToDir({ paths: ["policies"], outDir: "deploy", namespace: input.namespace, cwd: source });
  if (out.diff === undefined) throw new Error(`compile failed: ${JSON.stringify(out.diagnostics)}`);
  const dir = join(source, "deploy");
  // Not the eni-ip webhook's configuration: no controller serves it on this shared API server
  // (no kubelet runs its Deployment), and with failurePolicy Fail it would refuse every pod of
  // the other suites. test/kubelet runs the whole output, webhook included.
  const files = readdirSync(dir).filter(
    (f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && !f.includes("mutatingwebhookconfiguration"),
  );
  for (const w of [...new Set(files.map((f) => wave(dir, f)))].sort((a, b) => a - b)) {
    const args = files.filter((f) => wave(dir, f) === w).flatMap((f) => ["-f", join(dir, f)]);
    const apply = ["apply", "--server-side", "--force-conflicts", "--field-manager=vpccni-test", ...args];
    const r = await kubectl(cluster.admin, apply);
    if (r.code !== 0) throw new Error(`kubectl apply of wave ${w} of ${dir} failed: ${r.stderr}`);
  }
  return dir;
}

/** Loopback ports of the host that the agent needs in its node namespace. */
function loopbackPorts(opts: AgentPodOptions): number[] {
  const emulator = Number(opts.node.world.emulator.endpoint.split(":")[1]);
  return [emulator, Number(new URL(opts.cluster.server).port)];
}

export async function startAgentPod(opts: AgentPodOptions): Promise<AgentPod> {
  const { runtime, node, cluster, namespace, policy } = opts;
  const world = node.world;
  const forwards: NetnsForward[] = [];
  try {
    for (const port of loopbackPorts(opts))
      forwards.push(await forwardIntoNetns({ bed: world.bed, ns: node.ns.ns, port }));
    // the API's Pod anchors the token as kubelet's TokenRequest does (it then carries the node)
    const apiPod = await agentPod(cluster, namespace, policy, node.name);
    const token = await serviceAccountToken(cluster, namespace, `vpccni-agent-${policy}`, apiPod);
    const pod = await runtime.runPod({ name: apiPod.name, namespace, uid: apiPod.uid, hostNetwork: true });
    const agent = criContainer(opts.deployDir, `vpccni-agent-${policy}`, "agent", join(node.dir, "host"), {
      hostPaths: {
        // the folders EmulatedNode reads: its socket (node.socket, named by the node's conflist)
        "/run/vpccni": join(node.dir, "run"),
        "/var/lib/vpccni": join(node.dir, "state"),
        // where this containerd makes pod netns (netnsAt "run": CNI_NETNS is /var/run/netns/...)
        "/run/netns": Containerd.netnsDir(runtime.dir),
        // procfs: the files show the network namespace of the process that opens them, so the
        // agent (hostNetwork: the node's namespace) writes the node's sysctls, never the host's
        "/proc/sys/net": "/proc/sys/net",
      },
      fieldRefs: { "spec.nodeName": node.name, "metadata.name": apiPod.name, "metadata.namespace": namespace },
      env: {
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: new URL(cluster.server).port,
        // on a real node the agent's default, metadata.tencentyun.com; here the emulator's for this instance
        VPCCNI_METADATA_URL: world.emulator.metadataUrl(node.instanceId),
      },
      serviceAccount: { token: token.token, caCert: readFileSync(paths.testCaCert, "utf8"), namespace },
    });
    const containerId = await runtime.startContainer(pod, agent.config);
    return { pod, containerId, config: agent.config, forwards };
  } catch (error) {
    for (const f of forwards) await f.stop();
    throw error;
  }
}

/** Waits until the agent answers on its socket; fails at once with its logs if it exits. */
export async function agentAnswers(runtime: Containerd, a: AgentPod, node: EmulatedNode, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await runtime.inspectContainer(a.containerId);
    if (c.state === "CONTAINER_EXITED")
      throw new Error(
        `the agent container on ${node.name} exited with ${c.exitCode}:\n${(await runtime.containerLogs(a.containerId)).slice(-3000)}`,
      );
    const answers = await node.view().then(
      () => true,
      () => false,
    );
    if (answers) return;
    if (Date.now() > deadline)
      throw new Error(
        `the agent on ${node.name} did not answer on ${node.socket} within ${timeoutMs} ms:\n${(await runtime.containerLogs(a.containerId)).slice(-3000)}`,
      );
    await Bun.sleep(100);
  }
}

/** GET on 127.0.0.1:port inside the node's namespace, as kubelet's probe (hostNetwork) would. */
export async function getInNode(
  node: EmulatedNode,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const script = `const r = await fetch("http://127.0.0.1:${port}${path}"); console.log(JSON.stringify({ status: r.status, body: await r.text() }));`;
  const out = await node.world.bed.execOk(node.ns.ns, [process.execPath, "-e", script]);
  return JSON.parse(out);
}
