#!/usr/bin/env node
// `npx vpccni` runs under Node; the product runs under Bun, which npm installed as a
// dependency (in a vpccni checkout, or next to vpccni in the repository that installed it).
// This shim only finds Bun and hands it the real entry point.
"use strict";
const { spawn } = require("node:child_process");
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
// Not spawnSync: a signal to this launcher (a CI script's kill, a terminal's Ctrl-C reaching
// only this process) must reach Bun too, or Bun outlives it.
const child = spawn(bun, [main, ...process.argv.slice(2)], { stdio: "inherit" });
const forward = (signal) => () => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, forward(signal));
child.on("error", (error) => {
  process.stderr.write(`vpccni: cannot start Bun (${bun}): ${error.message}\n`);
  process.exit(127);
});
child.on("exit", (code, signal) => {
  const signo = signal ? (require("node:os").constants.signals[signal] ?? 15) : 0;
  process.exit(code ?? 128 + signo);
});
