// vpccni in a platform team's own Git repository, proven as they would do it under Node 20 and
// npm: `npm pack` of this checkout, a fresh repository in a temporary folder that installs the
// tarball as a devDependency, `npx vpccni init`, a YAML and a TypeScript policy, then the steps
// of the CI workflow that init wrote, exactly as written. Nothing resolves back into this
// checkout (see user-repo-kit.ts); npm's downloads are cached in ${VPCCNI_CACHE}/npm.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { devVersion, exec, gitCopyOfCheckout, pack, REPO, requireNodeNpmGit, sh, userWorld } from "./user-repo-kit.ts";

const world = userWorld();
const repo = world.repo;
const SLOW = 120_000;
afterAll(() => rmSync(world.root, { recursive: true, force: true }));

const ok = async (line: string) => {
  const r = await sh(repo, line);
  if (r.code !== 0)
    throw new Error(`\`${line}\` exited with ${r.code} in the user's repository:\n${r.stdout}${r.stderr}`);
  return r.stdout;
};

const batchPolicy = `import { definePolicy, type VpcCniPolicyInput } from "vpccni";

const prebind: VpcCniPolicyInput["spec"]["prebind"] = { min: 10, max: 20 };

export default definePolicy({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "batch" },
  spec: {
    clusterId: "cls-00000000",
    region: "ap-guangzhou",
    vpcId: "vpc-00000000",
    subnets: ["subnet-00000000"],
    nodeSelector: { "node.vpccni.io/pool": "batch" },
    prebind,
    releaseInterval: "5m",
  },
});
`;

function gpuPolicy(min: number): string {
  return `# yaml-language-server: $schema=../node_modules/vpccni/schema/vpccni-policy.schema.json
apiVersion: vpccni.io/v1alpha1
kind: VpcCniPolicy
metadata:
  name: gpu
spec:
  clusterId: cls-00000000
  region: ap-guangzhou
  vpcId: vpc-00000000
  subnets: [subnet-00000000]
  nodeSelector: { node.vpccni.io/pool: gpu }
  prebind: { min: ${min}, max: 8 }
`;
}

describe("vpccni installed from its tarball into a fresh Git repository", () => {
  beforeAll(async () => {
    requireNodeNpmGit();
    const { tarball } = await pack(world.packDir);
    await ok("git init -q && npm init -y >/dev/null");
    // The user's own TypeScript checks the policies with vpccni's declarations (no Bun types).
    await ok(`npm install --save-dev ${tarball} typescript@${devVersion("typescript")}`);
  }, SLOW);

  test("vpccni and its dependencies resolve inside the repository, never in this checkout", async () => {
    const installed = join(repo, "node_modules", "vpccni");
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    const resolved = (await exec(["node", "-p", 'require.resolve("vpccni/package.json")'], repo)).stdout.trim();
    expect(resolved).toBe(join(installed, "package.json"));
    for (const bin of ["vpccni", "bun", "tsc"])
      expect(realpathSync(join(repo, "node_modules/.bin", bin))).toStartWith(repo);
    expect(realpathSync(repo).startsWith(REPO)).toBe(false);
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    expect(pkg.devDependencies.vpccni).toStartWith("file:");
    expect(pkg.devDependencies.vpccni).not.toContain(REPO);
    expect(await ok("npx vpccni --version")).toBe(
      `vpccni ${JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version}\n`,
    );
    // Only what init, validate and compile need: no runtime-only packages.
    const top = readdirSync(join(repo, "node_modules")).filter((n) => !n.startsWith("."));
    for (const heavy of ["@kubernetes", "prom-client", "tencentcloud-sdk-nodejs", "vega", "vega-lite", "@resvg"])
      expect(top).not.toContain(heavy);
  });

  test("npx vpccni init lays out the repository; the starter policy's schema is the installed one", async () => {
    const out = await ok("npx vpccni init");
    expect(out).toContain("wrote  policies/general.yaml");
    for (const file of [
      "argocd/application.yaml",
      "flux/kustomization.yaml",
      ".github/workflows/vpccni.yaml",
      "README.md",
    ])
      expect(existsSync(join(repo, file)), file).toBe(true);
    const starter = readFileSync(join(repo, "policies/general.yaml"), "utf8");
    const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(starter)?.[1] ?? "(none)";
    expect(resolve(repo, "policies", schema)).toBe(join(repo, "node_modules/vpccni/schema/vpccni-policy.schema.json"));
    expect(JSON.parse(readFileSync(resolve(repo, "policies", schema), "utf8")).$defs.VpcCniPolicy).toBeDefined();
    const again = await sh(repo, "npx vpccni init");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("vpccni init: policies/general.yaml exists; init overwrites nothing");
    // The README's first commit: node_modules stays out of Git.
    await ok(
      "echo node_modules/ >> .gitignore && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm vpccni",
    );
    const tracked = (await ok("git ls-files")).split("\n");
    expect(tracked).toContain("deploy/kustomization.yaml");
    expect(tracked).toContain("package-lock.json");
    expect(tracked.filter((f) => f.startsWith("node_modules/"))).toEqual([]);
  });

  test(
    "YAML and TypeScript policies pass the workflow's steps; an edit makes the check fail",
    async () => {
      writeFileSync(join(repo, "policies/batch.policy.ts"), batchPolicy);
      writeFileSync(join(repo, "policies/gpu.yaml"), gpuPolicy(2));
      expect(await ok("npx vpccni compile policies --out deploy")).toStartWith("deploy: 3 policies -> ");
      const workflow = parse(readFileSync(join(repo, ".github/workflows/vpccni.yaml"), "utf8")) as {
        jobs: Record<string, { steps: { run?: string }[] }>;
      };
      const steps = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((s) => (s.run ? [s.run] : [])));
      expect(steps).toEqual([
        "npm ci",
        "npx vpccni validate policies",
        "npx vpccni compile policies --out deploy --check",
      ]);
      const outputs: string[] = [];
      for (const step of steps) outputs.push(await ok(step));
      expect(outputs[1]).toBe("3 policies in 3 files: 0 errors\n");
      expect(outputs[2]).toBe("deploy is current (28 files, 3 policies)\n");
      const configMap = readFileSync(join(repo, "deploy/30-configmap-vpccni-policy-batch.yaml"), "utf8");
      expect(configMap).toContain("releaseInterval: 5m");

      writeFileSync(join(repo, "policies/gpu.yaml"), gpuPolicy(4));
      const stale = await sh(repo, steps[2]!);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toStartWith("deploy is stale: run `vpccni compile policies --out deploy` and commit\n");
      expect(stale.stderr).toContain("changed  30-configmap-vpccni-policy-gpu.yaml");
    },
    SLOW,
  );

  test(
    "the user's own tsc (tsc --init's settings) checks policies with vpccni's declarations",
    async () => {
      // tsc --init: nodenext, strict, exactOptionalPropertyTypes, types: [] (no Bun, no Node types).
      // A policy is an ES module, so the repository says so, as docs/gitops.md tells.
      await ok("npx tsc --init >/dev/null && npm pkg set type=module");
      await ok("npx tsc --noEmit -p .");
      mkdirWrite(join(repo, "typo/bad.policy.ts"), batchPolicy.replace('releaseInterval: "5m"', "releaseInterval: 5"));
      const bad = await sh(repo, "npx tsc --noEmit -p .");
      rmSync(join(repo, "typo"), { recursive: true });
      expect(bad.code).not.toBe(0);
      expect(bad.stdout).toMatch(
        /^typo\/bad\.policy\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
      );
    },
    SLOW,
  );

  test(
    "commands that need more than the npm package installs say so in one line",
    async () => {
      const cases: [string, RegExp][] = [
        ["agent", /^vpccni agent: needs the package @kubernetes\/client-node, which the vpccni npm package/],
        ["simulate --policy policies/gpu.yaml --trace t.jsonl", /^vpccni simulate: needs the package @resvg\/resvg-js/],
        ["plan --nodes 3 --cloud policies", /^vpccni plan: needs the package tencentcloud-sdk-nodejs/],
        ["demo", /^vpccni demo: not in the vpccni npm package \(\.\.\/demo\/run\.ts is left out\)/],
      ];
      for (const [args, expected] of cases) {
        const r = await sh(repo, `TENCENTCLOUD_SECRET_ID=x TENCENTCLOUD_SECRET_KEY=y npx vpccni ${args}`);
        expect({ args, code: r.code, lines: r.stderr.split("\n").length }).toEqual({ args, code: 1, lines: 2 });
        expect(r.stderr).toMatch(expected);
        expect(r.stderr).toContain("a vpccni checkout (npm ci)");
      }
    },
    SLOW,
  );
});

describe("vpccni installed from a git URL", () => {
  const remote = join(world.root, "vpccni.git");
  const other = join(world.root, "from-git");

  test(
    "needs no build step: the declarations are committed, and the CLI runs at once",
    async () => {
      requireNodeNpmGit();
      await gitCopyOfCheckout(remote, "v0.1.0");
      mkdirSync(other);
      const install = await sh(other, `npm init -y >/dev/null && npm install --save-dev git+file://${remote}#v0.1.0`);
      expect(install.code, install.stderr).toBe(0);
      const installed = join(other, "node_modules/vpccni");
      expect(existsSync(join(installed, "schema/types/public.d.ts"))).toBe(true);
      expect(existsSync(join(installed, "test"))).toBe(false);
      const r = await sh(other, "npx vpccni init >/dev/null && npx vpccni compile policies --out deploy --check");
      expect({ code: r.code, stdout: r.stdout }).toEqual({
        code: 0,
        stdout: "deploy is current (22 files, 1 policy)\n",
      });
    },
    SLOW,
  );
});

function mkdirWrite(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
