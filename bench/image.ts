// Image size: the OCI archive scripts/build-image.sh writes (built first when missing). Per
// layer its compressed size (what a registry stores and a node downloads), its unpacked size
// (regular files: what the node's disk holds) and what it holds; the totals against the goal;
// the two Bun binaries, each of which carries a whole Bun runtime. Reads the archive with
// Bun.Archive; prints figures, never fails on them. MB = 10^6 bytes.
//
//   node_modules/.bin/bun bench/image.ts
//   last line: image unpacked=<MB> compressed=<MB> goal=250 vpccni=<MB> vpccni-cni=<MB>
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { GENERATOR_VERSION } from "../compiler/version.ts";

const GOAL_MB = 250;
const ROOT = join(import.meta.dir, "..");
const ARCHIVE = join(ROOT, "dist/image", `vpccni-${GENERATOR_VERSION}.oci.tar`);
const BINARIES = { vpccni: "usr/local/bin/vpccni", "vpccni-cni": "opt/vpccni/bin/vpccni-cni" } as const;

interface Descriptor {
  digest: string;
  size: number;
}
interface Index {
  manifests: (Descriptor & { annotations?: Record<string, string> })[];
}
interface Layer {
  compressed: number;
  files: Map<string, File>;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const blobPath = (d: Descriptor) => `blobs/sha256/${d.digest.replace(/^sha256:/, "")}`;

async function buildIfMissing(): Promise<void> {
  if (existsSync(ARCHIVE)) return;
  console.log(`${ARCHIVE} is missing: running scripts/build-image.sh`);
  const proc = Bun.spawn(["bash", join(ROOT, "scripts/build-image.sh")], { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0 || !existsSync(ARCHIVE)) {
    console.log("scripts/build-image.sh did not write the archive: no figures");
    process.exit(0);
  }
}

/** Paths without the "./" some tar writers put in front, so that layers compare. */
function normalize(files: Map<string, File>): Map<string, File> {
  return new Map([...files].map(([path, file]) => [path.replace(/^\.\//, ""), file]));
}

async function json<T>(files: Map<string, File>, path: string): Promise<T> {
  const file = files.get(path);
  if (file === undefined) throw new Error(`${ARCHIVE}: ${path} is missing; allowed: an OCI image layout archive`);
  return JSON.parse(await file.text()) as T;
}

/** What a layer holds: a Debian root file system by its dpkg database, else its files. */
async function holds(files: Map<string, File>): Promise<string> {
  const status = files.get("var/lib/dpkg/status");
  if (status !== undefined) {
    const packages = (await status.text()).match(/^Package: /gm)?.length ?? 0;
    const release = (await files.get("etc/debian_version")?.text())?.trim() ?? "?";
    const bySubtree = new Map<string, number>();
    for (const [path, file] of files) {
      const top = path.split("/").slice(0, 2).join("/");
      bySubtree.set(top, (bySubtree.get(top) ?? 0) + file.size);
    }
    const biggest = [...bySubtree].sort((a, b) => b[1] - a[1]).slice(0, 4);
    return `Debian ${release}: ${packages} packages; ${biggest.map(([p, s]) => `${p} ${mb(s)}`).join(", ")}`;
  }
  const sorted = [...files].sort((a, b) => b[1].size - a[1].size);
  const shown = sorted.slice(0, 4).map(([path, file]) => `/${path} ${mb(file.size)}`);
  return shown.join(", ") + (sorted.length > 4 ? `, ... (${sorted.length - 4} more)` : "");
}

async function main(): Promise<void> {
  await buildIfMissing();
  const outer = await new Bun.Archive(await Bun.file(ARCHIVE).bytes()).files();
  const index = await json<Index>(outer, "index.json");
  const top = index.manifests[0];
  if (top === undefined) throw new Error(`${ARCHIVE}: index.json lists no manifest; allowed: one image manifest`);
  const manifest = await json<{ layers: Descriptor[] }>(outer, blobPath(top));
  const layers: Layer[] = [];
  for (const d of manifest.layers) {
    const blob = outer.get(blobPath(d));
    if (blob === undefined) throw new Error(`${ARCHIVE}: layer ${d.digest} is missing`);
    layers.push({ compressed: d.size, files: normalize(await new Bun.Archive(await blob.bytes()).files()) });
  }

  const name = top.annotations?.["org.opencontainers.image.ref.name"] ?? "(no name)";
  console.log(`image ${name} (${ARCHIVE.slice(ROOT.length + 1)}, ${mb(statSync(ARCHIVE).size)} MB)`);
  console.log(`manifest ${top.digest}, ${layers.length} layers; MB = 10^6 bytes, unpacked = regular files`);
  const head = ["compressed".padStart(11), "unpacked".padStart(10), "files".padStart(7)].join("");
  console.log(`${"layer".padEnd(6)}${head}  holds`);
  let compressed = 0;
  let unpacked = 0;
  const sizes = new Map<string, number>();
  for (const [i, layer] of layers.entries()) {
    let bytes = 0;
    for (const file of layer.files.values()) bytes += file.size;
    for (const [label, path] of Object.entries(BINARIES)) {
      const file = layer.files.get(path);
      if (file !== undefined) sizes.set(label, file.size);
    }
    compressed += layer.compressed;
    unpacked += bytes;
    const cells = `${String(i + 1).padEnd(6)}${mb(layer.compressed).padStart(11)}${mb(bytes).padStart(10)}`;
    console.log(`${cells}${String(layer.files.size).padStart(7)}  ${await holds(layer.files)}`);
  }
  console.log(`${"total".padEnd(6)}${mb(compressed).padStart(11)}${mb(unpacked).padStart(10)}`);
  const over = unpacked / 1e6 - GOAL_MB;
  const verdict = over > 0 ? `${over.toFixed(1)} MB over` : `${(-over).toFixed(1)} MB to spare`;
  console.log(`goal unpacked <= ${GOAL_MB} MB: ${mb(unpacked)} MB (${verdict})`);

  // Each compiled binary is the Bun executable with its bundle appended: the runtime is the floor.
  const runtime = join(ROOT, "node_modules/bun/bin/bun.exe");
  const bun = existsSync(runtime) ? statSync(runtime).size : Number.NaN;
  const vpccni = sizes.get("vpccni") ?? Number.NaN;
  const cni = sizes.get("vpccni-cni") ?? Number.NaN;
  const binary = (label: string, size: number) => `${label} ${mb(size)} MB (program ${mb(size - bun)})`;
  console.log(`binaries: ${binary("vpccni", vpccni)}, ${binary("vpccni-cni", cni)}`);
  console.log(`  each includes the Bun runtime, ${mb(bun)} MB: two runtimes are ${mb(2 * bun)} MB of the ${GOAL_MB}`);
  const summary = `unpacked=${mb(unpacked)} compressed=${mb(compressed)} goal=${GOAL_MB}`;
  console.log(`image ${summary} vpccni=${mb(vpccni)} vpccni-cni=${mb(cni)}`);
}

await main();
