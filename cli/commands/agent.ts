import { parseArgs } from "node:util";
import { Agent } from "../../runtime/agent/agent.ts";
import { POD_GC_INTERVAL_MS } from "../../runtime/agent/pod-gc.ts";
import { createLogger, type Level } from "../../runtime/agent/log.ts";
import { AGENT_UMASK } from "../../runtime/agent/private-dirs.ts";
import { DEFAULT_SOCKET } from "../../runtime/cni/protocol.ts";
import { clusterCaFile } from "../../runtime/kube/ca-env.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { ADD_TIMEOUT_MS } from "../../schema/cni.ts";
import { formatDuration, parseDuration } from "../../schema/duration.ts";

export const help = `Usage: vpccni agent [options]

The node agent (run by the DaemonSet): keeps the node's pool of ENI secondary
IPs, binds ENIs and IPs through the Tencent Cloud VPC API, wires pods for the
CNI plugin, and keeps the Node's tke.cloud.tencent.com/eni-ip extended
resource current.

Options (environment variable in brackets):
  --policy FILE            the policy, a ConfigMap mount [VPCCNI_POLICY]
                           (default /etc/vpccni/policy/policy.yaml)
  --node-name NAME         this Kubernetes node [NODE_NAME] (required)
  --state-dir DIR          node state (SQLite) [VPCCNI_STATE_DIR]
                           (default /var/lib/vpccni)
  --socket PATH            CNI and introspection socket, 0600
                           (default ${DEFAULT_SOCKET})
  --listen HOST:PORT       /healthz /readyz /metrics [VPCCNI_LISTEN]
                           (default 0.0.0.0:61678); "off" for none
  --metadata-url URL       instance metadata service [VPCCNI_METADATA_URL]
  --credentials-dir DIR    mounted credentials Secret [VPCCNI_CREDENTIALS_DIR]
                           (default: environment, then CVM role)
  --endpoint HOST[:PORT]   VPC API endpoint instead of the policy's (a private
                           endpoint, the emulator)
  --kubeconfig FILE        Kubernetes access [KUBECONFIG] (default: the pod's
                           ServiceAccount)
  --no-kube                run without Kubernetes (no extended resource or
                           Events)
  --device-plugin-dir DIR  kubelet's device-plugin folder: eni-ip is
                           published as a device plugin while kubelet's
                           socket is there (the DaemonSet gives
                           /var/lib/kubelet/device-plugins); without it, by
                           patching the Node status
  --cni-conf-dir DIR       the node's CNI configuration folder, as mounted:
                           when the policy switches vpccni off, the agent
                           removes its conflist there once the node is
                           drained (the DaemonSet gives /host/etc/cni/net.d)
  --netns-dir DIR          a folder where the container runtime makes pod
                           network namespaces; CNI ADD and CHECK enter only a
                           file under one (or /proc/<pid>/ns/net of a pod
                           process). Repeatable (default /var/run/netns and
                           /run/netns)
  --netns NAME             act in this network namespace instead of the
                           agent's own (tests, demo)
  --primary-interface IF   the primary ENI's link when none has the primary
                           ENI's MAC (default eth0)
  --add-timeout DURATION   how long a CNI ADD waits for the pool to grow (fixed
                           IP mode: for the controller to bind the pod's claim)
                           before "try again later" (default ${formatDuration(ADD_TIMEOUT_MS)})
  --pod-gc-interval DURATION
                           how often the agent looks for pods gone without a
                           DEL (their netns path no longer exists; seen at two
                           looks, and never within the ADD timeout + 5s of
                           the ADD) (default ${formatDuration(POD_GC_INTERVAL_MS)})
  --log-level LEVEL        debug, info, warn or error (default info)
`;

export async function run(argv: string[]): Promise<number> {
  const env = process.env;
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: "string", default: env.VPCCNI_POLICY ?? "/etc/vpccni/policy/policy.yaml" },
      "node-name": { type: "string", default: env.NODE_NAME },
      "state-dir": { type: "string", default: env.VPCCNI_STATE_DIR ?? "/var/lib/vpccni" },
      socket: { type: "string", default: DEFAULT_SOCKET },
      listen: { type: "string", default: env.VPCCNI_LISTEN ?? "0.0.0.0:61678" },
      "metadata-url": { type: "string", default: env.VPCCNI_METADATA_URL },
      "credentials-dir": { type: "string", default: env.VPCCNI_CREDENTIALS_DIR },
      endpoint: { type: "string" },
      kubeconfig: { type: "string", default: env.KUBECONFIG },
      "no-kube": { type: "boolean", default: false },
      "device-plugin-dir": { type: "string" },
      "cni-conf-dir": { type: "string" },
      netns: { type: "string" },
      "netns-dir": { type: "string", multiple: true },
      "primary-interface": { type: "string", default: "eth0" },
      "add-timeout": { type: "string", default: formatDuration(ADD_TIMEOUT_MS) },
      "pod-gc-interval": { type: "string", default: formatDuration(POD_GC_INTERVAL_MS) },
      "log-level": { type: "string", default: "info" },
    },
  });
  const level = values["log-level"] as Level;
  if (!["debug", "info", "warn", "error"].includes(level)) {
    process.stderr.write(
      `vpccni agent: --log-level is ${JSON.stringify(level)}; allowed: debug, info, warn or error\n`,
    );
    return 2;
  }
  const addTimeoutMs = parseDuration(values["add-timeout"] as string);
  if (addTimeoutMs === undefined || addTimeoutMs < 1000 || addTimeoutMs > 10 * 60_000) {
    process.stderr.write(
      `vpccni agent: --add-timeout is ${JSON.stringify(values["add-timeout"])}; allowed: a duration from 1s to 10m, e.g. 20s\n`,
    );
    return 2;
  }
  const podGcIntervalMs = parseDuration(values["pod-gc-interval"] as string);
  if (podGcIntervalMs === undefined || podGcIntervalMs < 1000 || podGcIntervalMs > 60 * 60_000) {
    process.stderr.write(
      `vpccni agent: --pod-gc-interval is ${JSON.stringify(values["pod-gc-interval"])}; allowed: a duration from 1s to 1h, e.g. 30s\n`,
    );
    return 2;
  }
  const nodeName = values["node-name"];
  if (!nodeName) {
    process.stderr.write(
      "vpccni agent: --node-name (or NODE_NAME) is required; the DaemonSet sets it from spec.nodeName\n",
    );
    return 2;
  }
  const useKube = !values["no-kube"];
  if (useKube && !env.NODE_EXTRA_CA_CERTS) {
    const ca = clusterCaFile(values.kubeconfig);
    if (ca) return restartWith({ NODE_EXTRA_CA_CERTS: ca });
  }
  // Before any file is made: the state, the socket and their folders are root's alone.
  process.umask(AGENT_UMASK);
  const log = createLogger({ level, base: { component: "vpccni-agent", node: nodeName } });
  const agent = new Agent({
    policyFile: values.policy as string,
    nodeName,
    stateDir: values["state-dir"] as string,
    socket: values.socket as string,
    listen: values.listen === "off" ? null : (values.listen as string),
    metadataUrl: values["metadata-url"],
    credentialsDir: values["credentials-dir"],
    endpoint: values.endpoint,
    kube: useKube ? KubeClient.load(values.kubeconfig) : null,
    devicePluginDir: values["device-plugin-dir"],
    cniConfDir: values["cni-conf-dir"],
    netns: values.netns,
    netnsDirs: values["netns-dir"],
    primaryInterface: values["primary-interface"] as string,
    addTimeoutMs,
    podGcIntervalMs,
    log,
  });
  try {
    await agent.start();
  } catch (error) {
    log.error("agent failed to start", { error: (error as Error).message });
    await agent.stop().catch(() => {});
    return 1;
  }
  const { promise, resolve } = Promise.withResolvers<number>();
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    // `on`, not `once`: a signal can arrive twice (to the process group and forwarded by the
    // CA re-exec parent), and a second one must not kill a shutdown half-way.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info("stopping", { signal });
      agent.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error("unclean stop", { error: (e as Error).message });
          resolve(1);
        },
      );
    });
  }
  const code = await promise;
  log.info("stopped", { code });
  // Idle keep-alive connections (Kubernetes, cloud API) must not keep a stopped agent alive.
  process.exit(code);
}

/**
 * The arguments that run this same command again with process.execPath. A `bun build
 * --compile` binary (the image's vpccni) puts its embedded entry point (/$bunfs/root/...) in
 * argv[1] and adds it again by itself, so it is left out there.
 */
export function selfArgs(argv: readonly string[] = process.argv): string[] {
  const rest = argv.slice(1);
  return rest[0]?.startsWith("/$bunfs/") ? rest.slice(1) : rest;
}

/** Runs this same command again with extra environment (read only at process start). */
async function restartWith(extra: Record<string, string>): Promise<number> {
  const child = Bun.spawn([process.execPath, ...selfArgs()], {
    env: { ...process.env, ...extra },
    stdio: ["inherit", "inherit", "inherit"],
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => child.kill(signal));
  process.exit(await child.exited);
}
