// Whether this machine can run the demo on real nodes (sandbox/real-cluster.ts): the control
// plane and kubelet that scripts/prereqs.sh builds, Debian's containerd and runc, and the
// image scripts/build-image.sh writes. The answer names what is missing and the command that
// makes it, in one line.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { CONTAINERD_TOOLS } from "../../sandbox/containerd.ts";
import { paths } from "../../sandbox/paths.ts";
import { IMAGE_ARCHIVE } from "../../sandbox/real-cluster.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PREREQS = "`bash scripts/prereqs.sh`";
const IMAGE = "`bash scripts/build-image.sh`";

interface Part {
  name: string;
  present: () => boolean;
  how: string;
}

const file = (name: string, path: () => string): Part => ({ name, present: () => existsSync(path()), how: PREREQS });
const command = (name: string): Part => ({ name, present: () => Bun.which(name) !== null, how: PREREQS });

const PARTS: Part[] = [
  file("kubelet", () => paths.kubelet),
  file("kube-apiserver", () => paths.kubeApiserver),
  file("kube-controller-manager", () => paths.kubeControllerManager),
  file("kube-scheduler", () => paths.kubeScheduler),
  file("kubectl", () => paths.kubectl),
  file("etcd", () => paths.etcd),
  file("crictl", () => paths.crictl),
  file("the pause image", () => paths.pauseImage),
  file("the test CA", () => paths.testCaCert),
  file("the reference CNI plugins", () => join(paths.cniPluginDir, "portmap")),
  // the node's runtime, and what the control plane (openssl) and each node (ip, iptables) run
  ...[...CONTAINERD_TOOLS, "ip", "iptables", "openssl"].map(command),
  { name: relative(ROOT, IMAGE_ARCHIVE), present: () => existsSync(IMAGE_ARCHIVE), how: IMAGE },
];

/** What real nodes lack and how to make it, e.g. "kubelet, crictl: run `bash scripts/prereqs.sh`", or null. */
export function missingForRealNodes(): string | null {
  const missing = PARTS.filter((p) => !p.present());
  if (missing.length === 0) return null;
  const shown = missing.slice(0, 3).map((p) => p.name);
  const names = missing.length > 3 ? `${shown.join(", ")} and ${missing.length - 3} more` : shown.join(", ");
  const how = [...new Set(missing.map((p) => p.how))];
  return `${names}: run ${how.join(", then ")}`;
}
