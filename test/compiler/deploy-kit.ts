// Helpers for the compiler's API server suites: compile the examples into a fresh namespace,
// run the harness kubectl, and ask the server what a ServiceAccount may do.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileToDir } from "../../compiler/index.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { run, type RunResult } from "../../sandbox/exec.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import type { Kubeconfig } from "../../sandbox/kubeconfig.ts";
import { paths } from "../../sandbox/paths.ts";
import type { RequestAttributes } from "../../compiler/rbac-match.ts";

export const REPO = resolve(import.meta.dir, "../..");

/**
 * examples/policies (or only the named files of it) compiled for namespace `ns` into a
 * temporary folder.
 */
export async function compileExamples(ns: string, only?: string[]): Promise<{ dir: string; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-deploy-"));
  const outcome = await compileToDir({
    paths:
      only === undefined
        ? [join(REPO, "examples", "policies")]
        : only.map((f) => join(REPO, "examples", "policies", f)),
    outDir: dir,
    namespace: ns,
    cwd: REPO,
  });
  if (outcome.diff === undefined) throw new Error(`compile failed: ${JSON.stringify(outcome.diagnostics)}`);
  return {
    dir,
    files: readdirSync(dir)
      .filter((f) => f !== "kustomization.yaml")
      .sort(),
  };
}

export function wave(dir: string, file: string): number {
  const m = /argocd\.argoproj\.io\/sync-wave: "(\d+)"/.exec(readFileSync(join(dir, file), "utf8"));
  if (!m) throw new Error(`${file} has no sync-wave annotation`);
  return Number(m[1]);
}

export function kubectl(kc: Kubeconfig, args: string[]): Promise<RunResult> {
  return run([paths.kubectl, "--kubeconfig", kc.path, ...args]);
}

/**
 * A token of an existing ServiceAccount (TokenRequest). Bound to a pod, as the kubelet mounts
 * it, the token carries the pod's node name, which the node-status admission policy checks.
 */
export async function serviceAccountToken(
  c: Cluster,
  namespace: string,
  name: string,
  pod?: { name: string; uid: string },
): Promise<Kubeconfig> {
  const boundObjectRef =
    pod === undefined ? undefined : { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid };
  const tr = await kubeCall(c.admin, "POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 600, boundObjectRef },
    },
  });
  const token = tr.json?.status?.token;
  if (typeof token !== "string") throw new Error(`no token for ${namespace}/${name}: ${JSON.stringify(tr.json)}`);
  return { ...c.admin, token, path: "" };
}

/** The attributes a SelfSubjectAccessReview asks about: the compiler's own request model. */
export type Attributes = RequestAttributes;

/** SelfSubjectAccessReview made with the ServiceAccount's own token: the server's verdict. */
export async function allowed(sa: Kubeconfig, a: Attributes): Promise<boolean> {
  const review = await kubeCall(sa, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: a } },
  });
  return review.json.status.allowed === true;
}

/** Resource rules the ServiceAccount has in a namespace, minus what every authenticated user has. */
export async function ownRules(sa: Kubeconfig, namespace: string): Promise<string[]> {
  const review = await kubeCall(sa, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", {
    body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace } },
  });
  const everyone = new Set(["selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"]);
  const rules = review.json.status.resourceRules as {
    verbs: string[];
    apiGroups?: string[];
    resources?: string[];
    resourceNames?: string[];
  }[];
  return rules
    .filter((r) => !(r.resources ?? []).every((x) => everyone.has(x)))
    .flatMap((r) =>
      (r.resources ?? []).flatMap((res) =>
        r.verbs.map(
          (v) =>
            `${v} ${(r.apiGroups ?? [""]).join(",") || "core"}/${res}${r.resourceNames ? `[${r.resourceNames.join(",")}]` : ""}`,
        ),
      ),
    )
    .sort();
}

/** An agent pod of a policy on a node (no kubelet runs: it only anchors a bound token). */
export async function agentPod(
  c: Cluster,
  namespace: string,
  policy: string,
  node: string,
): Promise<{ name: string; uid: string }> {
  const name = `vpccni-agent-${policy}-${node}`;
  const pod = await kubeCall(c.admin, "POST", `/api/v1/namespaces/${namespace}/pods`, {
    body: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        nodeName: node,
        serviceAccountName: `vpccni-agent-${policy}`,
        containers: [{ name: "agent", image: "example.invalid/vpccni" }],
      },
    },
  });
  return { name, uid: pod.json.metadata.uid as string };
}

/** A strategic merge patch of a Node's status, as the agent sends it; 403 is returned, not thrown. */
export function patchStatus(kc: Kubeconfig, node: string, status: Record<string, unknown>) {
  return kubeCall(kc, "PATCH", `/api/v1/nodes/${node}/status`, {
    contentType: "application/strategic-merge-patch+json",
    body: { status },
    allow: [403],
  });
}
