// What kubelet makes of one container of the compiled DaemonSet, for the CRI: its volumes as
// folders of a fake host root (hostPath under `hostRoot` unless mapped elsewhere, ConfigMaps
// written out from the compiled manifests, Secrets from data the test gives, emptyDirs, the
// ServiceAccount token volume), its environment (downward API values the test gives), and the
// CRI ContainerConfig with the same command, mounts, propagation, security context and limits.
// Only what the agent's pod uses is translated; anything else throws.
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

interface Volume {
  name: string;
  hostPath?: { path: string };
  configMap?: { name: string; defaultMode?: number };
  secret?: { secretName: string; defaultMode?: number };
  emptyDir?: Record<string, unknown>;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
  };
}

/** What kubelet adds on a real node, given by the test. */
export interface KubeletInputs {
  /** hostPath path -> the folder on this machine that plays it (default: under hostRoot). */
  hostPaths?: Record<string, string>;
  /** Downward API values by fieldPath (spec.nodeName, metadata.name, metadata.namespace). */
  fieldRefs?: Record<string, string>;
  /** Environment kubelet adds (KUBERNETES_SERVICE_HOST/PORT), or a test's own. */
  env?: Record<string, string>;
  /** Secret data by Secret name (kubelet reads it from the API server). */
  secrets?: Record<string, Record<string, string>>;
  /** The projected ServiceAccount volume, when the pod automounts it. */
  serviceAccount?: { token: string; caCert: string; namespace: string };
}

export interface CriContainer {
  /** The image kubelet would ask the CRI for. */
  image: string;
  /** CRI ContainerConfig as crictl reads it. */
  config: Record<string, unknown>;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

// CRI MountPropagation: PROPAGATION_PRIVATE 0, PROPAGATION_HOST_TO_CONTAINER 1, PROPAGATION_BIDIRECTIONAL 2
const PROPAGATION: Record<string, number> = { None: 0, HostToContainer: 1, Bidirectional: 2 };

function manifests(deployDir: string): Record<string, any>[] {
  return readdirSync(deployDir)
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .map((f) => parse(readFileSync(join(deployDir, f), "utf8")));
}

/** Files of a projected volume, each with the volume's mode, as kubelet writes them. */
function writeFiles(dir: string, data: Record<string, unknown>, mode: number): string {
  mkdirSync(dir, { recursive: true });
  for (const [key, text] of Object.entries(data)) {
    writeFileSync(join(dir, key), String(text));
    chmodSync(join(dir, key), mode);
  }
  return dir;
}

/** Where a volume lives on the fake host; ConfigMaps and Secrets are written out as kubelet projects them. */
function volumePath(v: Volume, hostRoot: string, objects: Record<string, any>[], kubelet: KubeletInputs): string {
  if (v.hostPath) return kubelet.hostPaths?.[v.hostPath.path] ?? join(hostRoot, v.hostPath.path);
  if (v.emptyDir) return join(hostRoot, "pods", "volumes", "empty-dir", v.name);
  if (v.configMap) {
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap!.name);
    if (!cm) throw new Error(`volume ${v.name}: ConfigMap ${v.configMap.name} is not among the compiled manifests`);
    return writeFiles(
      join(hostRoot, "pods", "volumes", "configmap", v.name),
      cm.data ?? {},
      v.configMap.defaultMode ?? 0o644,
    );
  }
  if (v.secret) {
    const data = kubelet.secrets?.[v.secret.secretName];
    if (!data)
      throw new Error(
        `volume ${v.name}: Secret ${v.secret.secretName} was not given (kubelet reads it from the API server)`,
      );
    return writeFiles(join(hostRoot, "pods", "volumes", "secret", v.name), data, v.secret.defaultMode ?? 0o644);
  }
  throw new Error(`volume ${v.name}: only hostPath, configMap, secret and emptyDir are translated`);
}

/** `384Mi` -> bytes; `50m` / `1` CPUs -> millicores. */
function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`memory quantity '${q}' is not translated; allowed: a number with Ki, Mi or Gi`);
  return Number(m[1]) * { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ""]!;
}
function millicores(q: string): number {
  const m = /^(\d+)(m?)$/.exec(q);
  if (!m) throw new Error(`cpu quantity '${q}' is not translated; allowed: e.g. 50m or 1`);
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

/** The CRI form of container `name` (an init container or not) of DaemonSet `daemonSet`. */
export function criContainer(
  deployDir: string,
  daemonSet: string,
  name: string,
  hostRoot: string,
  kubelet: KubeletInputs = {},
): CriContainer {
  const objects = manifests(deployDir);
  const ds = objects.find((o) => o.kind === "DaemonSet" && o.metadata.name === daemonSet);
  if (!ds) throw new Error(`no DaemonSet ${daemonSet} in ${deployDir}`);
  const spec = ds.spec.template.spec;
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((x: Container) => x.name === name) as Container;
  if (!c) throw new Error(`DaemonSet ${daemonSet} has no container ${name}`);
  const mounts = (c.volumeMounts ?? []).map((m) => {
    const volume = (spec.volumes as Volume[]).find((v) => v.name === m.name);
    if (!volume) throw new Error(`container ${name} mounts ${m.name}, which is not a volume of the pod`);
    const hostPath = volumePath(volume, hostRoot, objects, kubelet);
    mkdirSync(hostPath, { recursive: true }); // DirectoryOrCreate, and kubelet makes emptyDirs
    const propagation = PROPAGATION[m.mountPropagation ?? "None"];
    if (propagation === undefined)
      throw new Error(`mountPropagation ${m.mountPropagation} of ${m.name} is not a Kubernetes value`);
    return {
      container_path: m.mountPath,
      host_path: hostPath,
      readonly: m.readOnly ?? false,
      ...(propagation === 0 ? {} : { propagation }),
    };
  });
  const sa = kubelet.serviceAccount;
  if (sa && spec.automountServiceAccountToken !== false) {
    const files = { token: sa.token, "ca.crt": sa.caCert, namespace: sa.namespace };
    const dir = writeFiles(join(hostRoot, "pods", "volumes", "service-account"), files, 0o644);
    mounts.push({ container_path: SERVICE_ACCOUNT_DIR, host_path: dir, readonly: true });
  }
  const envs = (c.env ?? []).map((e) => {
    if (e.value !== undefined) return { key: e.name, value: e.value };
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const value = field === undefined ? undefined : kubelet.fieldRefs?.[field];
    if (value === undefined) throw new Error(`env ${e.name}: ${JSON.stringify(e.valueFrom)} was not given`);
    return { key: e.name, value };
  });
  envs.push(...Object.entries(kubelet.env ?? {}).map(([key, value]) => ({ key, value })));
  const sc = c.securityContext ?? {};
  if (sc.privileged) throw new Error(`container ${name} is privileged; the kit does not translate that`);
  const seccomp = sc.seccompProfile?.type;
  if (seccomp && seccomp !== "RuntimeDefault") throw new Error(`seccomp profile ${seccomp} is not translated`);
  const memory = c.resources?.limits?.memory;
  const cpu = c.resources?.requests?.cpu;
  return {
    image: c.image,
    config: {
      metadata: { name: c.name },
      image: { image: c.image },
      command: c.command ?? [],
      args: c.args ?? [],
      envs,
      mounts,
      log_path: `${c.name}.log`,
      linux: {
        resources: {
          // as kubelet: shares from the request (1024 per CPU, at least 2), the memory limit as is
          ...(cpu === undefined ? {} : { cpu_shares: Math.max(2, Math.floor((millicores(cpu) * 1024) / 1000)) }),
          ...(memory === undefined ? {} : { memory_limit_in_bytes: bytes(memory) }),
        },
        security_context: {
          readonly_rootfs: sc.readOnlyRootFilesystem ?? false,
          ...(sc.runAsUser === undefined ? {} : { run_as_user: { value: sc.runAsUser } }),
          no_new_privs: sc.allowPrivilegeEscalation === false,
          capabilities: {
            add_capabilities: sc.capabilities?.add ?? [],
            drop_capabilities: sc.capabilities?.drop ?? [],
          },
          // ProfileType RuntimeDefault = 0
          ...(seccomp ? { seccomp: { profile_type: 0 } } : {}),
        },
      },
    },
  };
}
