// Where scripts/prereqs.sh puts the binaries it builds. Versions and layout must match
// scripts/build-common.sh: both compute ${VPCCNI_CACHE:-$HOME/.cache/vpccni}/<name>-<version>/bin.
import { homedir } from "node:os";
import { join } from "node:path";

export const versions = {
  kubernetes: "v1.35.4",
  etcd: "v3.6.16",
  cnitool: "v1.3.0",
  crictl: "v1.34.0",
  /** The pod sandbox image of scripts/build-pause.sh (its own version: bump it with the program). */
  pause: "v1",
} as const;

export function cacheRoot(): string {
  return process.env.VPCCNI_CACHE || join(process.env.HOME || homedir(), ".cache", "vpccni");
}

function bin(name: string, version: string, file: string): string {
  return join(cacheRoot(), `${name}-${version}`, "bin", file);
}

export const paths = {
  get kubeApiserver() {
    return bin("kubernetes", versions.kubernetes, "kube-apiserver");
  },
  get kubectl() {
    return bin("kubernetes", versions.kubernetes, "kubectl");
  },
  get kubelet() {
    return bin("kubernetes", versions.kubernetes, "kubelet");
  },
  get kubeScheduler() {
    return bin("kubernetes", versions.kubernetes, "kube-scheduler");
  },
  get kubeControllerManager() {
    return bin("kubernetes", versions.kubernetes, "kube-controller-manager");
  },
  get etcd() {
    return bin("etcd", versions.etcd, "etcd");
  },
  get cnitool() {
    return bin("cnitool", versions.cnitool, "cnitool");
  },
  get crictl() {
    return bin("crictl", versions.crictl, "crictl");
  },
  /** OCI archive of the pod sandbox image localhost/vpccni/pause:<version> (scripts/build-pause.sh). */
  get pauseImage() {
    return join(cacheRoot(), `pause-${versions.pause}`, "pause.oci.tar");
  },
  /**
   * The per-machine CA that signs every test API server's certificate (scripts/build-test-ca.sh).
   * Give it to Bun processes as NODE_EXTRA_CA_CERTS (see docs/testing.md).
   */
  get testCaCert() {
    return join(cacheRoot(), "test-ca-v1", "ca.pem");
  },
  get testCaKey() {
    return join(cacheRoot(), "test-ca-v1", "ca.key");
  },
  /** Debian containernetworking-plugins: the reference plugins, the comparison peer. */
  cniPluginDir: "/usr/lib/cni",
};
