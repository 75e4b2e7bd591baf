// Real nodes to look at by hand: `node_modules/.bin/bun sandbox/real-node-by-hand.ts [--nodes N]`
// (root) starts what test/kubelet runs (sandbox/real-cluster.ts: a control plane, the emulated
// cloud, containerd + kubelet per node, a vpccni policy applied as Flux applies it), prints how
// to reach each part with kubectl, crictl, ctr and `vpccni status`, and where every log is, then
// waits. Ctrl-C stops it all and removes it; a second Ctrl-C stops at once (the janitor and the
// leash still remove what is left).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { requireControlPlane } from "./apiserver.ts";
import { requireContainerd } from "./containerd.ts";
import { requireKubelet } from "./kubelet.ts";
import { paths } from "./paths.ts";
import { MissingPrerequisite, requireKube, requirePrereq } from "./prereq.ts";
import { AGENT_NAMESPACE, IMAGE_ARCHIVE, RealCluster } from "./real-cluster.ts";

const ROOT = resolve(import.meta.dir, "..");
const say = (line = "") => process.stdout.write(`${line}\n`);
const POOL = { "node.vpccni.io/pool": "by-hand" };

interface ApiPod {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string; initContainers?: { name: string }[]; containers: { name: string }[] };
}

const USAGE = `Usage: node_modules/.bin/bun sandbox/real-node-by-hand.ts [--nodes N] [--no-deploy]

  --nodes N     nodes, each with containerd and kubelet (default 1, at most 4)
  --no-deploy   do not apply the vpccni policy: nodes without a CNI, to apply by hand
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      nodes: { type: "string", default: "1" },
      "no-deploy": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 4) {
    process.stderr.write(`--nodes is ${JSON.stringify(values.nodes)}; allowed: an integer from 1 to 4\n\n${USAGE}`);
    return 2;
  }
  const deploy = !values["no-deploy"];
  try {
    requireContainerd();
    requireKube();
    requireKubelet();
    requireControlPlane();
    requirePrereq(
      "vpccni image",
      () => existsSync(IMAGE_ARCHIVE) || `${IMAGE_ARCHIVE} does not exist`,
      "build it with `bash scripts/build-image.sh`",
    );
  } catch (error) {
    if (!(error instanceof MissingPrerequisite)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }

  say(`starting a control plane, the emulated cloud and ${nodes} node(s) with containerd and kubelet...`);
  const c = await RealCluster.start({
    nodes,
    policy: "by-hand",
    labels: POOL,
    spec: { nodeSelector: POOL },
    deploy,
  });
  // The sandbox's own signal handlers end every process at once; here Ctrl-C stops the
  // cluster in order (kubelet, then containerd with a CNI DEL per pod, then the rest).
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeAllListeners(sig);
  let stopping = false;
  const stopped = new Promise<void>((done) => {
    const stop = () => {
      if (stopping) process.exit(130); // the exit hooks still kill and remove everything
      stopping = true;
      say("\nstopping: kubelets, containerd (every pod sandbox gets its CNI DEL), the control plane, the emulator");
      void c.stop().then(done, (e: Error) => {
        process.stderr.write(`stopping failed: ${e.message}\n`);
        done();
      });
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, stop);
  });
  try {
    if (deploy) {
      say("waiting for the vpccni agents (the DaemonSet, from the image) to turn ready...");
      await c.agentsReady();
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n(the cluster stays up for a look; Ctrl-C removes it)\n`);
  }
  await describe(c, deploy);
  for (const n of c.nodes)
    void n.kubelet?.exited.then((code) => {
      if (!stopping) process.stderr.write(`kubelet of ${n.name} exited with ${code}: see ${n.kubeletLog}\n`);
    });
  const keepAlive = setInterval(() => {}, 1 << 30);
  await stopped;
  clearInterval(keepAlive);
  return 0;
}

async function describe(c: RealCluster, deploy: boolean): Promise<void> {
  const kubectl = `${paths.kubectl} --kubeconfig ${c.kube.admin.path}`;
  const logs = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((p) => `${p}.log`);
  say();
  say(`control plane    ${c.kube.server}; logs in ${c.kube.dir}: ${logs.join(", ")}`);
  say(`admin kubeconfig ${c.kube.admin.path}`);
  say(`  ${kubectl} get nodes,pods -A -o wide`);
  say(`  export KUBECONFIG=${c.kube.admin.path} PATH=${join(paths.kubectl, "..")}:$PATH`);
  say(`emulated cloud   ${c.world.emulator.url}`);
  say(
    deploy
      ? `vpccni policy    ${join(c.repo, "policies")}, compiled to ${join(c.repo, "deploy")}, applied as Flux does`
      : "vpccni policy    not applied (--no-deploy): the nodes have no CNI yet",
  );
  const pods = deploy ? ((await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as ApiPod[]) : [];
  for (const n of c.nodes) {
    const pid = n.runtime.initPid;
    const enter = `nsenter -t ${pid} -m -p -n`;
    const crictl = `${enter} -- ${paths.crictl} --config ${join(n.runtime.dir, "crictl.yaml")}`;
    say();
    say(`${n.name} (${n.node.instanceId}): network namespace ${n.node.ns.ns}, IP ${n.node.ns.ip}`);
    say(`  enter it (its mounts, PIDs and network): ${enter}`);
    say(`  ${crictl} pods`);
    say(`  ${crictl} ps -a`);
    say(`  ${enter} -- ctr -a ${n.runtime.socket} -n k8s.io containers ls`);
    say(`  ip -n ${n.node.ns.ns} addr; ip -n ${n.node.ns.ns} rule; ip -n ${n.node.ns.ns} route show table all`);
    const log = (label: string, path: string) => say(`    ${label.padEnd(11)} ${path}`);
    say("  logs:");
    log("kubelet", n.kubeletLog);
    log("containerd", n.runtime.log);
    log("pods", `/proc/${pid}/root/var/log/pods (the node's own /var/log, seen from the host)`);
    // a container's log is <its folder>/<restart count>.log
    for (const p of pods.filter((x) => x.spec.nodeName === n.name))
      for (const container of [...(p.spec.initContainers ?? []), ...p.spec.containers])
        log(
          container.name,
          `/proc/${pid}/root/var/log/pods/${AGENT_NAMESPACE}_${p.metadata.name}_${p.metadata.uid}/${container.name}/`,
        );
    if (deploy) {
      say(`  pool: ${process.execPath} ${join(ROOT, "cli/main.ts")} status --socket ${n.node.socket}`);
      say(`  agent state (SQLite): ${join(n.node.dir, "state")}`);
    }
  }
  say();
  say("Ctrl-C stops everything and removes it.");
}

process.exit(await main());
