// What kubelet makes of one container of the compiled DaemonSet, for the CRI: its volumes as
// folders of a fake host root (hostPath under `hostRoot`, ConfigMaps written out from the
// compiled manifests, emptyDirs), and the CRI ContainerConfig with the same command, mounts and
// security context. Only what the agent's pod uses is translated; anything else throws.
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

interface Volume {
  name: string;
  hostPath?: { path: string };
  configMap?: { name: string; defaultMode?: number };
  emptyDir?: Record<string, unknown>;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
  };
}

export interface CriContainer {
  /** The image kubelet would ask the CRI for. */
  image: string;
  /** CRI ContainerConfig as crictl reads it. */
  config: Record<string, unknown>;
}

function manifests(deployDir: string): Record<string, any>[] {
  return readdirSync(deployDir)
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .map((f) => parse(readFileSync(join(deployDir, f), "utf8")));
}

/** Where a volume lives on the fake host; ConfigMaps are written out as kubelet projects them. */
function volumePath(v: Volume, hostRoot: string, objects: Record<string, any>[]): string {
  if (v.hostPath) return join(hostRoot, v.hostPath.path);
  if (v.emptyDir) return join(hostRoot, "pods", "volumes", "empty-dir", v.name);
  if (v.configMap) {
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap!.name);
    if (!cm) throw new Error(`volume ${v.name}: ConfigMap ${v.configMap.name} is not among the compiled manifests`);
    const dir = join(hostRoot, "pods", "volumes", "configmap", v.name);
    mkdirSync(dir, { recursive: true });
    for (const [key, text] of Object.entries(cm.data ?? {})) {
      writeFileSync(join(dir, key), String(text));
      chmodSync(join(dir, key), v.configMap.defaultMode ?? 0o644);
    }
    return dir;
  }
  throw new Error(`volume ${v.name}: only hostPath, configMap and emptyDir are translated`);
}

/** The CRI form of container `name` (an init container or not) of DaemonSet `daemonSet`. */
export function criContainer(deployDir: string, daemonSet: string, name: string, hostRoot: string): CriContainer {
  const objects = manifests(deployDir);
  const ds = objects.find((o) => o.kind === "DaemonSet" && o.metadata.name === daemonSet);
  if (!ds) throw new Error(`no DaemonSet ${daemonSet} in ${deployDir}`);
  const spec = ds.spec.template.spec;
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((x: Container) => x.name === name) as Container;
  if (!c) throw new Error(`DaemonSet ${daemonSet} has no container ${name}`);
  const mounts = (c.volumeMounts ?? []).map((m) => {
    const volume = (spec.volumes as Volume[]).find((v) => v.name === m.name);
    if (!volume) throw new Error(`container ${name} mounts ${m.name}, which is not a volume of the pod`);
    const hostPath = volumePath(volume, hostRoot, objects);
    mkdirSync(hostPath, { recursive: true }); // DirectoryOrCreate, and kubelet makes emptyDirs
    return { container_path: m.mountPath, host_path: hostPath, readonly: m.readOnly ?? false };
  });
  const sc = c.securityContext ?? {};
  const seccomp = sc.seccompProfile?.type;
  if (seccomp && seccomp !== "RuntimeDefault") throw new Error(`seccomp profile ${seccomp} is not translated`);
  return {
    image: c.image,
    config: {
      metadata: { name: c.name },
      image: { image: c.image },
      command: c.command ?? [],
      args: c.args ?? [],
      mounts,
      log_path: `${c.name}.log`,
      linux: {
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
