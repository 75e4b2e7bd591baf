// Prerequisites of the integration suites. A missing one fails the test with a message
// that says how to install it; it is never skipped (scripts/test.sh refuses skipped tests).
import { existsSync, accessSync, constants } from "node:fs";
import { paths } from "./paths.ts";

export class MissingPrerequisite extends Error {
  override name = "MissingPrerequisite";
}

const HOW =
  "install the test prerequisites with `bash scripts/prereqs.sh` (root; builds into ${VPCCNI_CACHE:-$HOME/.cache/vpccni})";

/**
 * Throws MissingPrerequisite unless `check` holds. `check` returns true, or false / a
 * string saying what is wrong.
 */
export function requirePrereq(name: string, check: () => boolean | string, how: string = HOW): void {
  let result: boolean | string;
  try {
    result = check();
  } catch (err) {
    result = String(err);
  }
  if (result === true) return;
  const why = typeof result === "string" ? `: ${result}` : "";
  const ci = process.env.CI === "true" ? " (CI=true: every prerequisite must be installed by scripts/prereqs.sh)" : "";
  throw new MissingPrerequisite(`missing prerequisite ${name}${why}; ${how}${ci}`);
}

function executable(path: string): boolean | string {
  if (!existsSync(path)) return `${path} does not exist`;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return `${path} is not executable`;
  }
}

export function requireRoot(): void {
  requirePrereq(
    "root",
    () => process.getuid?.() === 0 || `running as uid ${process.getuid?.()}`,
    "run the suite as root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)",
  );
}

export function requireBinary(name: string, path: string): void {
  requirePrereq(name, () => executable(path));
}

/** etcd + kube-apiserver + kubectl from the cache. */
export function requireKube(): void {
  requireBinary("etcd", paths.etcd);
  requireBinary("kube-apiserver", paths.kubeApiserver);
  requireBinary("kubectl", paths.kubectl);
  requirePrereq(
    "test CA",
    () => (existsSync(paths.testCaCert) && existsSync(paths.testCaKey)) || `${paths.testCaCert} or its key is missing`,
  );
  requirePrereq("openssl", () => Bun.which("openssl") !== null || "`openssl` is not on PATH");
}

/** What the network test bed itself needs: root and iproute2 (the demo needs no more). */
export function requireNetns(): void {
  requireRoot();
  requirePrereq("iproute2", () => Bun.which("ip") !== null || "`ip` is not on PATH");
}

/** Reachability checks in tests use ping (inside test namespaces only). */
export function requirePing(): void {
  requirePrereq("iputils-ping", () => Bun.which("ping") !== null || "`ping` is not on PATH");
}

/** The test bed, cnitool and the reference plugins. */
export function requireCni(): void {
  requireNetns();
  requireBinary("cnitool", paths.cnitool);
  for (const plugin of ["ptp", "host-local", "loopback"]) {
    requireBinary(`reference CNI plugin ${plugin}`, `${paths.cniPluginDir}/${plugin}`);
  }
}
