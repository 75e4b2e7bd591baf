// Fixed IP mode's CRDs on a test API server: applied as Flux would (server-side apply), then
// waited for until Established, so that the objects of the kinds can be written at once.
import { fixedIpCrds } from "../schema/fixed-ip-crds.ts";
import type { Kubeconfig } from "./kubeconfig.ts";
import { kubeCall } from "./kube-api.ts";

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

export async function installFixedIpCrds(kc: Pick<Kubeconfig, "server" | "token" | "ca">): Promise<void> {
  for (const crd of fixedIpCrds()) {
    const name = (crd.metadata as { name: string }).name;
    await kubeCall(kc, "PATCH", `${CRDS}/${name}?fieldManager=vpccni-test&force=true`, {
      body: crd,
      contentType: "application/apply-patch+yaml",
    });
  }
  for (const crd of fixedIpCrds()) {
    const name = (crd.metadata as { name: string }).name;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const got = await kubeCall(kc, "GET", `${CRDS}/${name}`);
      const conditions: { type: string; status: string }[] = got.json?.status?.conditions ?? [];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`${name} not Established: ${JSON.stringify(conditions)}`);
      await Bun.sleep(100);
    }
    // Established, yet the first lists may meet "storage is (re)initializing" (429)
    const plural = (crd.spec as { names: { plural: string } }).names.plural;
    for (let i = 0; ; i++) {
      const list = await kubeCall(kc, "GET", `/apis/vpccni.io/v1alpha1/${plural}`, { allow: [429] });
      if (list.status === 200) break;
      if (i > 300) throw new Error(`${name}: lists still refused after 30 s`);
      await Bun.sleep(100);
    }
  }
}
