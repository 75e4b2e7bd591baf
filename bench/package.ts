// The npm package as a platform team's repository gets it: `npm pack` of this checkout (packed
// and unpacked size, file count), then a fresh `npm install` of the tarball into an empty
// project (install size with every dependency, per package, and the time it took). Bun is the
// floor: the package runs on it. npm's downloads are cached in ${VPCCNI_CACHE}/npm, so the time
// is a warm install after the first run. Prints figures; never fails on size or time.
// MB = 10^6 bytes; sizes on disk count each hard-linked file once.
//
//   node_modules/.bin/bun bench/package.ts
//   last line: package packed=<MB> unpacked=<MB> files=<n> installed=<MB> packages=<n> bun=<MB>
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const mb = (bytes: number, digits = 1) => (bytes / 1e6).toFixed(digits);
const cache = join(process.env.VPCCNI_CACHE || join(process.env.HOME || homedir(), ".cache", "vpccni"), "npm");

function npm(args: string[], cwd: string): string {
  // Without what `npm run` sets for this checkout, so npm works on the folder it is given.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_.*|INIT_CWD)$/.test(k)));
  const out = Bun.spawnSync(["npm", ...args, "--cache", cache, "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (out.exitCode !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${out.stderr}`);
  return out.stdout.toString();
}

/** Bytes on disk under `dir`: regular files, each inode once (npm hard-links Bun's binary). */
function diskUsage(dir: string, seen = new Set<number>()): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const info = lstatSync(path);
    if (entry.isDirectory()) bytes += diskUsage(path, seen);
    else if (entry.isFile() && !seen.has(info.ino)) {
      seen.add(info.ino);
      bytes += info.size;
    }
  }
  return bytes;
}

/** Installed packages (scoped ones by their scope/name) with their size on disk. */
function packages(modules: string): [string, number][] {
  const out: [string, number][] = [];
  for (const name of readdirSync(modules).filter((n) => !n.startsWith("."))) {
    if (name.startsWith("@"))
      for (const sub of readdirSync(join(modules, name)))
        out.push([`${name}/${sub}`, diskUsage(join(modules, name, sub))]);
    else out.push([name, diskUsage(join(modules, name))]);
  }
  return out.sort((a, b) => b[1] - a[1]);
}

function main(): void {
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "vpccni-bench-package-"));
  try {
    const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", work], ROOT)) as {
      filename: string;
      size: number;
      unpackedSize: number;
      entryCount: number;
    }[];
    if (packed === undefined) throw new Error("npm pack reported no tarball");
    console.log(`tarball ${packed.filename}: ${packed.entryCount} files`);
    console.log(`  packed ${mb(packed.size, 2)} MB, unpacked ${mb(packed.unpackedSize, 2)} MB`);

    const project = join(work, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "gitops", private: true })}\n`);
    const start = performance.now();
    npm(["install", "--save-dev", join(work, packed.filename)], project);
    const seconds = (performance.now() - start) / 1000;
    const modules = join(project, "node_modules");
    const installed = diskUsage(modules);
    const list = packages(modules);
    const bun = list.filter(([name]) => name === "bun" || name.startsWith("@oven/")).reduce((s, [, b]) => s + b, 0);
    console.log(`npm install of the tarball: ${list.length} packages, ${mb(installed)} MB, ${seconds.toFixed(1)} s`);
    for (const [name, bytes] of list) console.log(`  ${name.padEnd(28)}${mb(bytes).padStart(8)} MB`);
    console.log(`  Bun (the runtime) is ${mb(bun)} MB of it; the rest is ${mb(installed - bun)} MB`);
    console.log(
      `package packed=${mb(packed.size, 2)} unpacked=${mb(packed.unpackedSize, 2)} files=${packed.entryCount} installed=${mb(installed)} packages=${list.length} bun=${mb(bun)}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
