#!/usr/bin/env node
// `npx vpccni` runs under Node; the product runs under Bun, which npm installed as a
// dependency (in a vpccni checkout, or next to vpccni in the repository that installed it).
// This shim only finds Bun and hands it the real entry point.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const main = path.join(__dirname, "main.ts");
let bun;
try {
  bun = require.resolve("bun/bin/bun.exe", { paths: [path.join(__dirname, "..")] });
} catch {
  process.stderr.write(
    "vpccni: Bun (the npm package bun, a dependency of vpccni) is not installed; run `npm ci` (or `npm install`) in this repository first\n",
  );
  process.exit(127);
}
const child = spawnSync(bun, [main, ...process.argv.slice(2)], { stdio: "inherit" });
if (child.error) {
  process.stderr.write(`vpccni: cannot start Bun (${bun}): ${child.error.message}\n`);
  process.exit(127);
}
const signo = child.signal ? (require("node:os").constants.signals[child.signal] ?? 15) : 0;
process.exit(child.status ?? 128 + signo);
