// A minimal VpcCniPolicy in YAML, as tests write one. Line numbers matter to the tests that
// check located diagnostics, so the layout is fixed: `pool` puts `nodeSelector: { pool: <name> }`
// before or after the subnets; `subnets` as a block list (default: one subnet, inline); `extra`
// is appended as written (lines of spec, indented two spaces).
export function policyYaml(
  name: string,
  o: { extra?: string; pool?: "before-subnets" | "after-subnets"; subnets?: string[] } = {},
): string {
  const pool = `  nodeSelector: { pool: ${name} }\n`;
  const subnets = o.subnets
    ? `  subnets:\n${o.subnets.map((s) => `    - ${s}`).join("\n")}\n`
    : "  subnets: [subnet-pods0001]\n";
  return `apiVersion: vpccni.io/v1alpha1
kind: VpcCniPolicy
metadata: { name: ${name} }
spec:
  clusterId: cls-demo0001
  region: ap-guangzhou
  vpcId: vpc-demo0001
${o.pool === "before-subnets" ? pool : ""}${subnets}${o.pool === "after-subnets" ? pool : ""}${o.extra ?? ""}`;
}
