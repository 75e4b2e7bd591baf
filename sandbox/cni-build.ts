// The CNI plugin binary for the sandbox: compiled once per process by scripts/build-cni.sh
// into a temp folder that the janitor removes, even after a kill.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { runOk } from "./exec.ts";
import { makeTempDir } from "./janitor.ts";
import { requireBinary } from "./prereq.ts";
import { onProcessExit } from "./process.ts";

const ROOT = resolve(import.meta.dir, "..");
let built: string | undefined;

/** Compiles runtime/cni into a temp dir (scripts/build-cni.sh) and returns that dir. */
export async function buildCni(): Promise<string> {
  if (built) return built;
  const dir = makeTempDir("cnibin");
  onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  await runOk(["bash", join(ROOT, "scripts/build-cni.sh")], { env: { VPCCNI_CNI_DIR: dir } });
  requireBinary("vpccni CNI binary (scripts/build-cni.sh)", join(dir, "vpccni"));
  built = dir;
  return dir;
}
