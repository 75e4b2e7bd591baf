// Mutation testing: how many small bugs the fast unit suites catch. Prints figures only; it is not
// part of `npm test` or CI (an area takes minutes; docs/reliability.md has the figures).
//
//   node_modules/.bin/bun bench/mutation.ts [--dry-run | --survivors] [schema|pool|cloud|compiler|cni ...]
//
// Default: every area. --dry-run instruments the area and runs its suites once without a mutant
// (checks the set-up, prints the mutant count). --survivors tests again, with the current tests,
// only the lines where the last run (dist/mutation/<area>.json) left a mutant alive, and every
// product file changed since, and updates that report: a quick check of new tests. A file added
// to the area since, or a mutant that moved outside those lines, needs a full run.
//
// Each area runs StrykerJS (@stryker-mutator/core) with its command runner: Stryker copies the
// repository into a sandbox under the OS temp dir, instruments the area's product files (never
// tests or *-kit.ts) with every mutant switched off, then runs `bun test --bail` on the area's
// pure unit suites once per mutant, with the mutant's id in __STRYKER_ACTIVE_MUTANT__ (the
// instrumented code reads it from process.env, under Bun as under Node). A failing run kills the
// mutant. Pure suites only: no network namespaces, no root, no kube-apiserver; the cloud suites
// use the in-process emulator on a fake clock. Left out because they run once per mutant and take
// seconds each once instrumented: the property suites runtime/pool/{properties,clock,cadence},
// schema/property.test.ts, runtime/cloud/properties.test.ts and role-refresh.test.ts;
// runtime/cloud/cam-policy.test.ts reads the adapter's source text, which the instrumentation
// rewrites, so cam-policy.ts (the list that test checks) is not mutated either.
// Restricted `mutate`:
//   - compiler: the files with logic of their own (see COMPILER below: 1,457 mutants, 37 min on
//     2 busy cores), not the cdk8s object builders, whose output the snapshot tests pin byte
//     for byte (all of compiler/ is 2,922 mutants, well over an hour);
//   - cni: the protocol, result, config, calls, commands and host modules, whose suites run
//     without root (delegate.ts and mixed.ts are tested in network namespaces).
//
// Stryker runs under `nice -n 19` with concurrency 2, so it yields to other work on the machine.
// Stryker 10 refuses Node < 22, so Bun runs it (Bun reports a current Node version), workers too.
// Reports (JSON, and the clear-text log listing every survivor) go to dist/mutation/.
// An area where no mutant is killed is suspect (mutants not activated): the run says so.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

type Area = { mutate: string[]; tests: string[] };

const COMPILER = [
  "compiler/plan/*.ts",
  "compiler/refuse.ts",
  "compiler/rbac-match.ts",
  "compiler/locate.ts",
  "compiler/removals.ts",
  "compiler/immutable.ts",
  "compiler/compile-to-dir.ts",
  "compiler/outdir.ts",
  "compiler/render.ts",
  "compiler/agent-contract.ts",
  "compiler/conflist.ts",
];

const AREAS: Record<string, Area> = {
  schema: {
    mutate: ["schema/*.ts", "!schema/*.test.ts", "!schema/*-kit.ts"],
    tests: [
      "schema/diagnostic.test.ts",
      "schema/edges.test.ts",
      "schema/endpoint.test.ts",
      "schema/fixed-ip-crds.test.ts",
      "schema/generated.test.ts",
      "schema/introspect.test.ts",
      "schema/load-files.test.ts",
      "schema/load.test.ts",
      "schema/names.test.ts",
      "schema/rate-limits.test.ts",
      "schema/render.test.ts",
      "schema/units.test.ts",
      "schema/yaml-source.test.ts",
    ],
  },
  pool: {
    mutate: ["runtime/pool/*.ts", "!runtime/pool/*.test.ts", "!runtime/pool/*-kit.ts"],
    tests: [
      "runtime/pool/apply-result.test.ts",
      "runtime/pool/drain.test.ts",
      "runtime/pool/edges.test.ts",
      "runtime/pool/next-wake.test.ts",
      "runtime/pool/operations.test.ts",
      "runtime/pool/persist.test.ts",
      "runtime/pool/rule-functions.test.ts",
      "runtime/pool/rules.test.ts",
      "runtime/pool/settings.test.ts",
    ],
  },
  cloud: {
    mutate: [
      "runtime/cloud/*.ts",
      "!runtime/cloud/*.test.ts",
      "!runtime/cloud/*-kit.ts",
      "!runtime/cloud/cam-policy.ts",
    ],
    tests: [
      "runtime/cloud/units.test.ts",
      "runtime/cloud/waits.test.ts",
      "runtime/cloud/budget.test.ts",
      "runtime/cloud/cleanup.test.ts",
      "runtime/cloud/convert.test.ts",
      "runtime/cloud/answers.test.ts",
      "runtime/cloud/credentials.test.ts",
      "runtime/cloud/faults.test.ts",
      "runtime/cloud/metadata.test.ts",
      "runtime/cloud/scenario.test.ts",
      "runtime/cloud/tencent.test.ts",
    ],
  },
  compiler: {
    mutate: COMPILER.flatMap((f) => (f.includes("*") ? [f, `!${f.replace(/\.ts$/, ".test.ts")}`] : [f])),
    tests: [
      "compiler/plan/capacity.test.ts",
      "compiler/plan/fixed.test.ts",
      "compiler/plan/subnets-file.test.ts",
      "compiler/plan/zone-check.test.ts",
      "compiler/locate.test.ts",
      "compiler/immutable.test.ts",
      "compiler/rbac-match.test.ts",
      "compiler/rbac.test.ts",
      "compiler/agent-contract.test.ts",
      "compiler/refuse.test.ts",
      "compiler/removals.test.ts",
      "compiler/compile-to-dir.test.ts",
      "compiler/snapshot.test.ts",
    ],
  },
  cni: {
    mutate: ["protocol", "result", "config", "calls", "commands", "host"].map((f) => `runtime/cni/${f}.ts`),
    tests: [
      "runtime/cni/protocol.test.ts",
      "runtime/cni/calls.test.ts",
      "runtime/cni/commands.test.ts",
      "runtime/cni/edges.test.ts",
      "test/fuzz/cni.test.ts",
    ],
  },
};

type Status = "Killed" | "Survived" | "Timeout" | "NoCoverage" | "Ignored" | string;
type Pos = { line: number; column: number };
type Mutant = {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: Status;
  location: { start: Pos; end: Pos };
};
type Report = { files: Record<string, { source: string; mutants: Mutant[] }> };
type Counts = { mutants: number; killed: number; survived: number; timeout: number; noCoverage: number; other: number };

// Stryker 10 refuses Node < 22; Bun runs it and its worker processes.
const STRYKER = "node_modules/@stryker-mutator/core/bin/stryker.js";
const root = resolve(import.meta.dir, "..");
const outDir = join(root, "dist", "mutation");
const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const asked = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const dryRun = flags.includes("--dry-run");
const survivorsOnly = flags.includes("--survivors");
const badFlags = flags.filter((f) => f !== "--dry-run" && f !== "--survivors");
const unknown = asked.filter((a) => !(a in AREAS));
if (unknown.length > 0 || badFlags.length > 0) {
  console.error(`unknown ${[...unknown, ...badFlags].join(", ")}: areas are ${Object.keys(AREAS).join(", ")}`);
  process.exit(2);
}
const areas = asked.length > 0 ? asked : Object.keys(AREAS);
mkdirSync(outDir, { recursive: true });

function config(name: string, area: Area, mutate: string[], reportFile: string) {
  const tests = area.tests.map((t) => `./${t}`).join(" ");
  return {
    testRunner: "command",
    commandRunner: { command: `node_modules/.bin/bun test --bail --timeout 60000 ${tests}` },
    mutate,
    coverageAnalysis: "off",
    concurrency: 2,
    // The sandbox is a copy of the repository: outside it, or `bun test` in the checkout would
    // find the copy's tests. dist/ (images, reports) is not needed by the unit suites.
    tempDirName: join(tmpdir(), "vpccni-stryker", name),
    ignorePatterns: ["dist", ".ci"],
    cleanTempDir: "always",
    timeoutMS: 10000,
    reporters: ["json", "clear-text", "progress-append-only"],
    jsonReporter: { fileName: reportFile },
    clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
    thresholds: { high: 80, low: 60, break: null },
    // Bun does not type-check; the default would add "// @ts-nocheck" to the sandbox's .ts files
    // (test data included) and move the lines that the located-diagnostics tests pin.
    disableTypeChecks: false,
    plugins: [],
  };
}

function count(report: Report): Counts {
  const c: Counts = { mutants: 0, killed: 0, survived: 0, timeout: 0, noCoverage: 0, other: 0 };
  for (const file of Object.values(report.files)) {
    for (const m of file.mutants) {
      if (m.status === "Ignored") continue;
      c.mutants++;
      if (m.status === "Killed") c.killed++;
      else if (m.status === "Survived") c.survived++;
      else if (m.status === "Timeout") c.timeout++;
      else if (m.status === "NoCoverage") c.noCoverage++;
      else c.other++;
    }
  }
  return c;
}

// Stryker's score: detected (killed, timed out) over detected + undetected (survived, no coverage).
function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 0 : (100 * (c.killed + c.timeout)) / valid;
}

const key = ({ location: { start, end }, mutatorName, replacement }: Mutant) =>
  `${start.line}:${start.column}-${end.line}:${end.column} ${mutatorName} ${replacement ?? ""}`;

/**
 * What a --survivors run mutates: the lines where the last report's mutants survived, and the
 * whole of every product file that changed since that report (its mutants moved).
 */
function survivorRanges(reportFile: string, area: Area): { mutate: string[]; changed: string[] } {
  const report = JSON.parse(readFileSync(reportFile, "utf8")) as Report;
  const mutate: string[] = [];
  const changed: string[] = [];
  for (const [file, f] of Object.entries(report.files)) {
    if (!inArea(file, area)) continue;
    if (readFileSync(join(root, file), "utf8") !== f.source) {
      changed.push(file);
      mutate.push(file);
      continue;
    }
    for (const m of f.mutants)
      if (m.status === "Survived" || m.status === "NoCoverage")
        mutate.push(`${file}:${m.location.start.line}-${m.location.end.line}`);
  }
  return { mutate: [...new Set(mutate)], changed };
}

/** Whether the area's `mutate` patterns (globs, "!" to leave out) take a file. */
function inArea(file: string, area: Area): boolean {
  const match = (p: string) => new Bun.Glob(p).match(file);
  return (
    area.mutate.some((p) => !p.startsWith("!") && match(p)) &&
    !area.mutate.some((p) => p.startsWith("!") && match(p.slice(1)))
  );
}

/**
 * The last full report with the results of a --survivors run: changed files whole, others by
 * mutant; files the area no longer mutates are dropped.
 */
function merge(full: Report, partial: Report, changed: readonly string[], area: Area): Report {
  for (const file of Object.keys(full.files)) if (!inArea(file, area)) delete full.files[file];
  for (const [file, f] of Object.entries(partial.files)) {
    const old = full.files[file];
    if (changed.includes(file) || old === undefined) {
      full.files[file] = f;
      continue;
    }
    const again = new Map(f.mutants.map((m) => [key(m), m.status]));
    for (const m of old.mutants) m.status = again.get(key(m)) ?? m.status;
  }
  return full;
}

async function stryker(name: string, configFile: string, logFile: string): Promise<number> {
  const proc = Bun.spawn(
    ["nice", "-n", "19", process.execPath, STRYKER, "run", configFile, ...(dryRun ? ["--dryRunOnly"] : [])],
    { cwd: root, stdout: "pipe", stderr: "inherit" },
  );
  let log = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    log += text;
    for (const line of text.split("\n")) if (line.startsWith("Mutation testing ")) console.log(`${name}: ${line}`);
  }
  writeFileSync(logFile, log);
  return await proc.exited;
}

const total: Counts = { mutants: 0, killed: 0, survived: 0, timeout: 0, noCoverage: 0, other: 0 };
let failed = false;
for (const name of areas) {
  const area = AREAS[name] as Area;
  const reportFile = join(outDir, `${name}.json`);
  let mutate = area.mutate;
  let runReport = reportFile;
  let changed: string[] = [];
  if (survivorsOnly) {
    if (!existsSync(reportFile)) {
      console.log(`${name}: no earlier run (${reportFile}); run the area in full first`);
      failed = true;
      continue;
    }
    const again = survivorRanges(reportFile, area);
    if (again.changed.length > 0)
      console.log(`${name}: changed since the last run, mutated whole: ${again.changed.join(" ")}`);
    mutate = again.mutate;
    changed = again.changed;
    runReport = join(outDir, `${name}.survivors.json`);
  }
  const configFile = join(outDir, `${name}.config.json`);
  writeFileSync(configFile, `${JSON.stringify(config(name, area, mutate, runReport), null, 2)}\n`);
  const logFile = join(outDir, survivorsOnly ? `${name}.survivors.log` : `${name}.log`);
  const started = Date.now();
  console.log(`\n== ${name}: ${survivorsOnly ? `${mutate.length} survivor lines of ` : ""}${area.mutate.join(" ")}`);
  console.log(`   tests: ${area.tests.join(" ")}`);
  if (mutate.length === 0) {
    console.log(`${name}: no survivors to test again`);
  } else {
    const status = await stryker(name, configFile, logFile);
    const seconds = Math.round((Date.now() - started) / 1000);
    const log = readFileSync(logFile, "utf8");
    if (status !== 0) {
      console.log(log.split("\n").slice(-30).join("\n"));
      console.log(`${name}: stryker exited with ${status} after ${seconds} s; log: ${logFile}`);
      failed = true;
      continue;
    }
    if (dryRun) {
      const instrumented = /Instrumented \d+ source file\(s\) with \d+ mutant\(s\)/.exec(log)?.[0] ?? "no mutants";
      console.log(`${name}: ${instrumented}; ${/Initial test run succeeded.*/.exec(log)?.[0] ?? ""}`);
      continue;
    }
    console.log(`${name}: ${seconds} s`);
    if (survivorsOnly) {
      const full = JSON.parse(readFileSync(reportFile, "utf8")) as Report;
      const partial = JSON.parse(readFileSync(runReport, "utf8")) as Report;
      writeFileSync(reportFile, JSON.stringify(merge(full, partial, changed, area)));
    }
  }
  if (dryRun) continue;
  const c = count(JSON.parse(readFileSync(reportFile, "utf8")) as Report);
  for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k];
  console.log(
    `${name}: mutants=${c.mutants} killed=${c.killed} survived=${c.survived} timeout=${c.timeout} ` +
      `no-coverage=${c.noCoverage} errors=${c.other} score=${score(c).toFixed(1)}% (survivors: ${logFile})`,
  );
  if (c.mutants > 0 && c.killed === 0) {
    console.log(`${name}: no mutant killed: are the mutants activated (__STRYKER_ACTIVE_MUTANT__)?`);
  }
}
if (!dryRun) {
  console.log(`mutation score=${score(total).toFixed(1)}% killed=${total.killed} survived=${total.survived}`);
}
process.exit(failed ? 1 : 0);
