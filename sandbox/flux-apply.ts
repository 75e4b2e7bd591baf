// Applying a compiled output as Flux's kustomize-controller applies a Kustomization: the
// kustomization.yaml built (kubectl kustomize, the same kustomize library), then server-side
// apply under Flux's field manager in two stages, CustomResourceDefinitions and Namespaces
// first, everything else once they are established. Nothing is hand-made or edited.
import { parseAllDocuments } from "yaml";
import type { Kubeconfig } from "./kubeconfig.ts";
import { paths } from "./paths.ts";
import { run } from "./exec.ts";

/** kustomize-controller's field manager. */
export const FLUX_FIELD_MANAGER = "kustomize-controller";
const FIRST = new Set(["CustomResourceDefinition", "Namespace"]);

export interface Applied {
  kind: string;
  namespace?: string;
  name: string;
}

/** Builds `dir`'s kustomization and applies it; returns the objects in the order applied. */
export async function fluxApply(admin: Kubeconfig, dir: string): Promise<Applied[]> {
  const built = await run([paths.kubectl, "kustomize", dir]);
  if (built.code !== 0) throw new Error(`kustomize build of ${dir} failed: ${built.stderr}`);
  const docs = parseAllDocuments(built.stdout).map((d) => d.toJSON() as Record<string, any>);
  const stages = [docs.filter((d) => FIRST.has(d.kind)), docs.filter((d) => !FIRST.has(d.kind))];
  const applied: Applied[] = [];
  for (const stage of stages) {
    if (stage.length === 0) continue;
    const input = stage.map((d) => JSON.stringify(d)).join("\n");
    const args = ["apply", "--server-side", `--field-manager=${FLUX_FIELD_MANAGER}`, "-f", "-"];
    const r = await run([paths.kubectl, "--kubeconfig", admin.path, ...args], { input });
    if (r.code !== 0) throw new Error(`server-side apply of ${dir} failed: ${r.stderr}`);
    if (stage.some((d) => d.kind === "CustomResourceDefinition")) {
      const wait = ["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"];
      const w = await run([paths.kubectl, "--kubeconfig", admin.path, ...wait]);
      if (w.code !== 0) throw new Error(`CRDs of ${dir} not established: ${w.stderr}`);
    }
    for (const d of stage) applied.push({ kind: d.kind, namespace: d.metadata?.namespace, name: d.metadata?.name });
  }
  return applied;
}
