// `vpccni init [DIR]`: the GitOps repository of docs/gitops.md, ready for its first commit. It
// writes the scaffold, then compiles the starter policy, so `compile --check` (what the CI
// workflow runs) passes from the start. It never overwrites: any existing file stops it first.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compileToDir } from "../../compiler/index.ts";
import { hasErrors, renderDiagnostics, summary } from "../../schema/index.ts";

export const help = `Usage: vpccni init [DIR]

Starts a GitOps repository for vpccni in DIR (default: the current folder),
laid out as docs/gitops.md describes:

  policies/general.yaml          a commented starter policy
  deploy/                        its manifests, compiled by vpccni compile
  argocd/application.yaml        an Argo CD Application that syncs deploy/
  flux/kustomization.yaml        a Flux Kustomization that syncs deploy/
  .github/workflows/vpccni.yaml  CI: validate, then compile --check
  README.md                      what is where, and the everyday commands

DIR is the repository's root, where package.json lists vpccni. Nothing is
ever overwritten: when one of these files exists (or deploy/ is not empty),
init names each one, writes nothing and exits 1.
`;

const SCHEMA_IN_PACKAGE = "node_modules/vpccni/schema/vpccni-policy.schema.json";

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  if (positionals.length > 1) {
    process.stderr.write(`vpccni init: takes one folder, got ${positionals.length}\n\n${help}`);
    return 2;
  }
  const root = resolve(positionals[0] ?? ".");
  const shown = (path: string) => {
    const rel = relative(process.cwd(), join(root, path));
    return rel.startsWith("..") ? join(root, path) : rel || ".";
  };
  const files = scaffold(schemaModeline(root));
  const taken = [...files.keys()].filter((path) => existsSync(join(root, path)));
  const deploy = join(root, "deploy");
  const problems = taken.map((path) => `${shown(path)} exists`);
  if (existsSync(deploy) && readdirSync(deploy).length > 0) problems.push(`${shown("deploy")}/ is not empty`);
  if (problems.length > 0) {
    for (const p of problems)
      process.stderr.write(`vpccni init: ${p}; init overwrites nothing, so nothing was written\n`);
    return 1;
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const outcome = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: root });
  if (outcome.diagnostics.length > 0)
    process.stderr.write(`${renderDiagnostics(outcome.diagnostics, outcome.sources)}\n\n`);
  if (hasErrors(outcome.diagnostics) || outcome.diff === undefined) {
    process.stderr.write(
      `${summary(outcome.diagnostics, outcome.policies, outcome.sources.size)}; deploy/ not written\n`,
    );
    return 1;
  }
  const manifests = outcome.diff.added.length + outcome.diff.changed.length + outcome.diff.unchanged.length;
  process.stdout.write(
    [
      ...[...files.keys()].map((path) => `  wrote  ${shown(path)}`),
      `  wrote  ${shown("deploy")}/ (${manifests} files compiled from ${shown("policies")}/)`,
      "",
      `Next: put your cluster's IDs into ${shown("policies/general.yaml")}, then`,
      `  ${shown(".") === "." ? "" : `cd ${shown(".")} && `}npx vpccni compile policies --out deploy`,
      `and commit; ${shown("README.md")} has the rest.`,
      "",
    ].join("\n"),
  );
  return 0;
}

/**
 * The modeline points editors at the JSON Schema inside the installed package: found from DIR
 * upwards, or where `npm i -D` in DIR puts it.
 */
function schemaModeline(root: string): string {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, SCHEMA_IN_PACKAGE))) return relative(join(root, "policies"), join(dir, SCHEMA_IN_PACKAGE));
    if (dirname(dir) === dir) return `../${SCHEMA_IN_PACKAGE}`;
  }
}

function scaffold(schemaPath: string): Map<string, string> {
  return new Map([
    ["policies/general.yaml", starterPolicy(schemaPath)],
    ["argocd/application.yaml", ARGOCD],
    ["flux/kustomization.yaml", FLUX],
    [".github/workflows/vpccni.yaml", WORKFLOW],
    ["README.md", README],
  ]);
}

const starterPolicy = (schemaPath: string) => `# yaml-language-server: $schema=${schemaPath}
# A VpcCniPolicy: how the nodes it selects get pod IPs from the VPC. Replace the IDs below
# with your cluster's. Every field, with its type and default: npx vpccni schema --format markdown
# After a change: npx vpccni compile policies --out deploy, and commit policies/ and deploy/.
apiVersion: vpccni.io/v1alpha1
kind: VpcCniPolicy
metadata:
  name: general                      # names the generated objects; unique in the cluster
spec:
  clusterId: cls-00000000            # your TKE cluster's ID; it tags every ENI the agents create
  region: ap-guangzhou               # the region of the VPC
  vpcId: vpc-00000000                # the cluster's VPC
  subnets: [subnet-00000000]         # pod subnets; a new ENI goes into the one with most free IPs
  nodeSelector:                      # the nodes this policy governs; {} selects every node
    node.vpccni.io/pool: general
  prebind: { min: 5, max: 5 }        # idle IPs each node keeps bound ahead of pods (the defaults)
  # Credentials never go into a policy. Unset, the agents use the node's CVM role; or name a
  # Secret (in the agents' namespace) holding TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY:
  # cloud:
  #   credentialsSecretRef: { name: tencentcloud-credentials }
`;

const ARGOCD = `# Argo CD syncs the compiled manifests in deploy/, never the policies: CI proves that deploy/
# is what \`vpccni compile policies\` gives. Set repoURL to this repository, then
# kubectl apply -n argocd -f argocd/application.yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: vpccni
  namespace: argocd
  finalizers:
    # Deleting the Application deletes every vpccni object. The agents stop, but their ENIs
    # and IPs stay attached to the nodes: see vpccni's docs/gitops.md on switching off.
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: https://git.example.com/platform/gitops.git
    targetRevision: main
    path: deploy
  destination:
    server: https://kubernetes.default.svc
    namespace: vpccni-system
  # vpccni's controller sets its webhook's caBundle from a CA it keeps in a Secret (no TLS
  # material in Git): not drift.
  ignoreDifferences:
    - group: admissionregistration.k8s.io
      kind: MutatingWebhookConfiguration
      name: vpccni-eni-ip
      jqPathExpressions:
        - .webhooks[].clientConfig.caBundle
  syncPolicy:
    automated:
      # vpccni compile removes the files of deleted policies; prune removes their objects.
      prune: true
      selfHeal: true
    syncOptions:
      - ServerSideApply=true
      # The Namespace, with its Pod Security labels, is part of deploy/.
      - CreateNamespace=false
      - RespectIgnoreDifferences=true
`;

const FLUX = `# Flux applies the compiled manifests in deploy/ with kustomize-controller. It assumes a
# GitRepository named gitops for this repository; then kubectl apply -f flux/kustomization.yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: vpccni
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: gitops
  path: ./deploy
  # vpccni compile removes the files of deleted policies; prune removes their objects.
  prune: true
  # Ready only when every agent DaemonSet has rolled out.
  wait: true
`;

const WORKFLOW = `# Fails a change whose policies and compiled manifests disagree, so what Argo CD or Flux
# syncs is always what the policies say. vpccni is a devDependency: npm ci installs it.
# If you compile with --namespace or --image, pass the same flags to the check.
name: vpccni
on:
  pull_request:
  push:
    branches: [main]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - name: Policies are valid
        run: npx vpccni validate policies
      - name: Compiled output is current
        run: npx vpccni compile policies --out deploy --check
`;

const README = `# GitOps repository for vpccni

Pod networking for Kubernetes on Tencent Cloud VPC, configured here. You commit policies; CI
checks that the compiled manifests are current; Argo CD or Flux applies them.

| path | what | who writes it |
|---|---|---|
| \`policies/\` | VpcCniPolicy files (\`*.yaml\`, \`*.policy.ts\`) | you |
| \`deploy/\` | compiled manifests and \`kustomization.yaml\` | \`npx vpccni compile\` |
| \`argocd/application.yaml\` | Argo CD Application for \`deploy/\` | you, once |
| \`flux/kustomization.yaml\` | Flux Kustomization for \`deploy/\` | you, once |
| \`.github/workflows/vpccni.yaml\` | CI: \`validate\`, then \`compile --check\` | you, once |

Day to day:

\`\`\`sh
npx vpccni validate policies                  # every problem at once, as file:line:col
npx vpccni compile policies --out deploy      # write the manifests
git add policies deploy && git commit         # commit both in the same change
\`\`\`

A policy in TypeScript is \`export default definePolicy({...})\` in \`policies/<name>.policy.ts\`,
with \`import { definePolicy } from "vpccni"\`. Your editor checks it with vpccni's types, and
YAML policies through the schema named on their first line.

First commit: \`echo node_modules/ >> .gitignore\`, then commit \`package.json\`,
\`package-lock.json\`, \`.gitignore\` and the folders above. Point \`argocd/application.yaml\` or
\`flux/kustomization.yaml\` at this repository and apply it once.
`;
