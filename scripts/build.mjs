#!/usr/bin/env node
// npm run build (and `prepare`, so `npm ci` builds): the toolkit into dist/ as JavaScript with
// declarations, through tsc. Plain JavaScript so it runs before anything is built.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });

// The toolchain resolver stays where it is (it finds its Go sources and pinned versions next to
// itself); dist/cli/engine.js imports it as ../scripts/toolchain/resolve.mjs, so point there.
const shim = join(dist, "scripts", "toolchain");
mkdirSync(shim, { recursive: true });
writeFileSync(join(shim, "resolve.mjs"), 'export * from "../../../scripts/toolchain/resolve.mjs";\n');
writeFileSync(join(shim, "resolve.d.mts"), 'export * from "../../../scripts/toolchain/resolve.mjs";\n');
chmodSync(join(dist, "cli", "tenancy.js"), 0o755);
