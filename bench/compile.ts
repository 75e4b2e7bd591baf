// Compile time for 10, 100 and 1000 policies (in memory: refusals, objects, cdk8s, YAML), and
// how it scales. Prints figures; never fails on time. Run: node_modules/.bin/bun bench/compile.ts
import { VpcCniPolicy, type SourcedPolicy } from "../schema/index.ts";
import { generate } from "../compiler/output-files.ts";

function policies(n: number): SourcedPolicy[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `pool-${String(i).padStart(4, "0")}`;
    const at = { file: `policies/${name}.yaml`, line: 4, col: 9, length: name.length };
    const policy = VpcCniPolicy.parse({
      apiVersion: "vpccni.io/v1alpha1",
      kind: "VpcCniPolicy",
      metadata: { name },
      spec: {
        clusterId: "cls-bench001",
        region: "ap-guangzhou",
        vpcId: "vpc-bench001",
        subnets: [`subnet-${String(i % 100).padStart(8, "0")}`],
        nodeSelector: { "node.vpccni.io/pool": name },
        // Every third policy reads a Secret, so Role and RoleBinding are in the mix.
        ...(i % 3 === 0 ? { cloud: { credentialsSecretRef: { name: `keys-${name}` } } } : {}),
      },
    });
    return { policy, file: at.file, nameAt: at, selectorAt: at };
  });
}

function timeOnce(input: SourcedPolicy[]): { ms: number; files: number; bytes: number } {
  const start = Bun.nanoseconds();
  const out = generate(input, new Map());
  const ms = (Bun.nanoseconds() - start) / 1e6;
  if (out.diagnostics.length > 0) throw new Error(`unexpected diagnostics: ${out.diagnostics[0]!.message}`);
  let bytes = 0;
  for (const text of out.files.values()) bytes += text.length;
  return { ms, files: out.files.size, bytes };
}

const RUNS = 3;
generate(policies(5), new Map()); // warm up the JIT and module loading
const rows: { n: number; ms: number; files: number; bytes: number }[] = [];
for (const n of [10, 100, 1000]) {
  const input = policies(n);
  const runs = Array.from({ length: RUNS }, () => timeOnce(input));
  const median = runs.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
  rows.push({ n, ms: median, files: runs[0]!.files, bytes: runs[0]!.bytes });
}
console.log(`compile (median of ${RUNS} runs, Bun ${Bun.version})`);
console.log("policies  files  MB     ms       ms/policy");
for (const r of rows) {
  console.log(
    `${String(r.n).padEnd(8)}  ${String(r.files).padEnd(5)}  ${(r.bytes / 1e6).toFixed(2).padEnd(5)}  ${r.ms.toFixed(1).padEnd(7)}  ${(r.ms / r.n).toFixed(3)}`,
  );
}
const ratio = rows[2]!.ms / rows[0]!.ms;
console.log(`1000/10 time ratio: ${ratio.toFixed(1)} (100 would be linear)`);
