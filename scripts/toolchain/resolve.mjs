#!/usr/bin/env node
// Resolves the Pulumi toolchain (engine CLI, Node.js language host, provider plugins) pinned in
// versions.json, without ever letting the engine download anything itself.
//
//   node scripts/toolchain/resolve.mjs               progress on stderr, one JSON line on stdout
//   node scripts/toolchain/resolve.mjs --print-env   `export` lines on stdout, for eval
//   node scripts/toolchain/resolve.mjs --offline     skip the official download, build with go
//   import { resolveToolchain } from "./scripts/toolchain/resolve.mjs"
//
// Order: (1) a finished toolchain in the cache, or a pinned `pulumi` already on PATH;
// (2) the official release tarball from get.pulumi.com (after a 5 s probe);
// (3) an offline build with the `go` client from the Go module proxy into the cache.
// Everything lands in ~/.cache/tenancy-as-code (override: TENANCY_TOOLCHAIN_CACHE); each binary
// is built in a temp dir and renamed into place, so an interrupted run never leaves half a binary.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pins = JSON.parse(fs.readFileSync(path.join(here, "versions.json"), "utf8"));
const PROBE_URL = "https://get.pulumi.com/";
const PROBE_TIMEOUT_MS = 5000;

export async function resolveToolchain({ log = (m) => console.error(m), offline = false } = {}) {
  const version = pins.pulumi.version;
  const cacheRoot = process.env.TENANCY_TOOLCHAIN_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "tenancy-as-code");
  const dir = path.join(cacheRoot, "toolchain", version);
  const bin = path.join(dir, "bin");
  const pulumiHome = path.join(cacheRoot, "pulumi-home");
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(pulumiHome, { recursive: true });
  const manifestPath = path.join(dir, "manifest.json");
  const hostSum = hashDir(path.join(here, pins.languageHost.goSource));
  let online; // probed at most once, and only if something is missing
  const isOnline = async () => (online ??= offline ? false : await probe(log));
  // A finished toolchain in the cache; our own language host counts only if langhost/ is unchanged.
  const cached = () => {
    const m = readJSON(manifestPath) ?? {};
    const ok = m.pulumi === version && (m.languageHost === "official" || m.hostSum === hostSum) &&
      exists(path.join(bin, "pulumi")) && exists(path.join(bin, pins.languageHost.name));
    return ok ? m : null;
  };

  // (1) The cache, or a pinned CLI already on PATH together with its bundled language host.
  let binDir = null;
  let manifest = cached();
  if (manifest) {
    binDir = bin;
  } else {
    const onPath = findOnPath("pulumi", bin);
    if (onPath && exists(path.join(path.dirname(onPath), pins.languageHost.name)) && cliVersion(onPath) === `v${version}`) {
      log(`toolchain: using pulumi v${version} from ${path.dirname(onPath)}`);
      binDir = path.dirname(onPath);
      manifest = { languageHost: "path" };
    }
  }

  // (2) The official release tarball, else (3) a go build. The lock makes concurrent first runs
  // (e.g. parallel test workers) wait for one build instead of racing in the same wrapper module.
  if (!binDir) {
    manifest = await withLock(path.join(dir, ".lock"), log, async () => {
      const done = cached();
      if (done) return done;
      cleanStaleTemps(dir);
      let m;
      if (await isOnline() && await downloadRelease(version, dir, bin, log)) {
        m = { pulumi: version, languageHost: "official" };
      } else {
        const prev = readJSON(manifestPath) ?? {};
        await goBuild(dir, bin, prev.pulumi === version, log);
        m = { pulumi: version, languageHost: "go-build", hostSum };
      }
      writeDynamicProviderLauncher(bin);
      writeAtomic(manifestPath, JSON.stringify(m, null, 2));
      return m;
    });
    binDir = bin;
  }

  const env = {
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_HOME: pulumiHome,
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const pulumiBin = path.join(binDir, "pulumi");
  const plugins = await resolvePlugins(pulumiBin, env, isOnline, log);
  return { pulumiBin, env, versions: { pulumi: version, languageHost: manifest.languageHost, plugins } };
}

// Provider plugins go into our PULUMI_HOME, where the engine looks first. Sources: our
// PULUMI_HOME already, the user's PULUMI_HOME (~/.pulumi), or `pulumi plugin install` when online.
// A plugin that cannot be found is reported as "missing", not fatal: the engine only needs it
// when a program actually creates a resource of that provider.
async function resolvePlugins(pulumiBin, env, isOnline, log) {
  const result = {};
  for (const p of pins.plugins) {
    const key = `${p.name}@${p.version}`;
    const dirName = `${p.kind}-${p.name}-v${p.version}`;
    const exe = `pulumi-${p.kind}-${p.name}`;
    const ours = path.join(env.PULUMI_HOME, "plugins", dirName);
    const theirs = path.join(process.env.PULUMI_HOME || path.join(os.homedir(), ".pulumi"), "plugins", dirName);
    const runEnv = { ...process.env, ...env };
    if (installed(ours, exe)) {
      result[key] = "installed";
    } else if (installed(theirs, exe)) {
      log(`toolchain: copying plugin ${key} from ${theirs}`);
      run(pulumiBin, ["plugin", "install", p.kind, p.name, p.version, "--file", path.join(theirs, exe)], runEnv);
      result[key] = "installed";
    } else if (await isOnline()) {
      log(`toolchain: pulumi plugin install ${p.kind} ${p.name} ${p.version}`);
      const r = spawnSync(pulumiBin, ["plugin", "install", p.kind, p.name, p.version],
        { env: runEnv, stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
      result[key] = r.status === 0 ? "installed" : "missing";
    } else {
      result[key] = "missing";
    }
    if (result[key] === "missing") {
      log(`toolchain: WARNING plugin ${key} is not available offline; programs that create its resources will fail`);
    }
  }
  return result;
}

function installed(pluginDir, exe) {
  // A ".partial" marker means an interrupted `pulumi plugin install`.
  return exists(path.join(pluginDir, exe)) && !exists(`${pluginDir}.partial`);
}

// Node's fetch fails in milliseconds on DNS errors; the timeout bounds the case where packets
// are silently dropped.
async function probe(log) {
  try {
    await fetch(PROBE_URL, { method: "HEAD", signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return true;
  } catch (err) {
    log(`toolchain: get.pulumi.com unreachable (${err.cause?.code ?? err.name}); using the offline path`);
    return false;
  }
}

async function downloadRelease(version, dir, bin, log) {
  const osName = { linux: "linux", darwin: "darwin" }[process.platform];
  const arch = { x64: "x64", arm64: "arm64" }[process.arch];
  if (!osName || !arch) return false;
  const url = `https://get.pulumi.com/releases/sdk/pulumi-v${version}-${osName}-${arch}.tar.gz`;
  const tmp = fs.mkdtempSync(path.join(dir, "download-"));
  try {
    log(`toolchain: downloading ${url}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const tarball = path.join(tmp, "pulumi.tar.gz");
    fs.writeFileSync(tarball, Buffer.from(await res.arrayBuffer()));
    run("tar", ["-xzf", tarball, "-C", tmp]);
    // The tarball holds pulumi/<binaries>: the CLI, language hosts, bundled plugins.
    for (const f of fs.readdirSync(path.join(tmp, "pulumi"))) {
      fs.renameSync(path.join(tmp, "pulumi", f), path.join(bin, f));
    }
    return true;
  } catch (err) {
    log(`toolchain: official download failed (${err.message}); building with go instead`);
    return false;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Builds the CLI and our language host (langhost/, see its header for why) from one generated
// wrapper module under the cache. A wrapper is needed because `go install pkg@version` refuses
// modules whose go.mod has replace directives, which pkg/v3 has.
async function goBuild(dir, bin, haveCli, log) {
  const { version, goModule, goPackage, sdkGoModule, versionVariable } = pins.pulumi;
  if (spawnSync("go", ["version"]).status !== 0) {
    throw new Error("toolchain: no pinned pulumi found, get.pulumi.com unreachable, and `go` is not installed");
  }
  const wrap = path.join(dir, "gowrap");
  const goEnv = { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ""} -mod=mod`.trim() };
  fs.mkdirSync(wrap, { recursive: true });
  const hostDir = path.join(wrap, "langhost");
  fs.rmSync(hostDir, { recursive: true, force: true });
  fs.cpSync(path.join(here, pins.languageHost.goSource), hostDir, { recursive: true });
  if (!exists(path.join(wrap, "go.sum"))) {
    // pkg/v3's own non-local replaces (e.g. its clipboard fork) must be repeated: replaces in a
    // dependency's go.mod are ignored. Its `sdk/v3 => ../sdk` is covered by requiring sdk/v3.
    log(`toolchain: fetching ${goModule}@v${version} from the Go module proxy`);
    const dl = spawnSync("go", ["mod", "download", "-json", `${goModule}@v${version}`], { env: goEnv, cwd: wrap, encoding: "utf8" });
    const info = JSON.parse(dl.stdout || "{}");
    if (dl.status !== 0 || !info.GoMod) throw new Error(`toolchain: go mod download failed: ${info.Error ?? dl.stderr}`);
    const { Replace = [] } = JSON.parse(run("go", ["mod", "edit", "-json", info.GoMod], goEnv, wrap));
    const replaces = Replace.filter((r) => r.New.Version) // skip local-path replaces
      .map((r) => `replace ${r.Old.Path}${r.Old.Version ? ` ${r.Old.Version}` : ""} => ${r.New.Path} ${r.New.Version}`);
    fs.writeFileSync(path.join(wrap, "go.mod"), [
      "// Generated by scripts/toolchain/resolve.mjs; safe to delete.",
      "module tenancy-as-code.local/toolchain", "", "go 1.25", "",
      `require ${goModule} v${version}`, `require ${sdkGoModule} v${version}`, "", ...replaces, "",
    ].join("\n"));
    fs.writeFileSync(path.join(wrap, "tools.go"),
      `//go:build tools\n\npackage tools\n\nimport _ "${goPackage}"\n`);
    log("toolchain: resolving Go dependencies (go mod tidy)");
    await runWithProgress("go", ["mod", "tidy"], goEnv, wrap, "go mod tidy", log);
  }
  const ldflags = `-s -w -X ${versionVariable}=v${version}`;
  const targets = [["pulumi", goPackage], [pins.languageHost.name, "./langhost"]];
  for (const [name, pkg] of targets) {
    if (name === "pulumi" && haveCli && exists(path.join(bin, name))) continue; // only the host changed
    const tmp = fs.mkdtempSync(path.join(dir, "build-"));
    try {
      log(`toolchain: building ${name}${name === "pulumi" ? " (a cold build takes several minutes)" : ""}`);
      await runWithProgress("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", path.join(tmp, name), pkg],
        goEnv, wrap, `go build ${name}`, log);
      fs.renameSync(path.join(tmp, name), path.join(bin, name));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

// The engine runs dynamic providers (pulumi.dynamic.Resource) as the plugin
// `pulumi-resource-pulumi-nodejs`, which the release tarball ships next to `pulumi`. It only has
// to start @pulumi/pulumi's dynamic-provider host from the program's node_modules.
function writeDynamicProviderLauncher(bin) {
  const file = path.join(bin, "pulumi-resource-pulumi-nodejs");
  if (exists(file)) return;
  writeAtomic(file, [
    "#!/bin/sh",
    "# Generated by scripts/toolchain/resolve.mjs: starts @pulumi/pulumi's dynamic provider host.",
    `script=$(node -e 'process.stdout.write(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"))') || exit 1`,
    'exec node "$script" "$@"', "",
  ].join("\n"), 0o755);
}

async function withLock(lock, log, fn) {
  let waiting = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      const pid = Number(readText(lock));
      if (pid && !alive(pid)) { // left by a killed run
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (pid && !waiting) log(`toolchain: waiting for another resolve (pid ${pid}) to finish building`);
      waiting ||= Boolean(pid);
      await new Promise((r) => setTimeout(r, pid ? 5000 : 200)); // no pid yet: its owner is writing it
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

// Temp dirs of a killed build or download (`finally` does not run on SIGKILL).
function cleanStaleTemps(dir) {
  for (const f of fs.readdirSync(dir)) {
    if (/^(build|download)-/.test(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}

// Runs a long command quietly, printing a heartbeat so a multi-minute build does not look hung.
// Output goes to <cwd>/last-build.log and is shown only on failure.
function runWithProgress(cmd, args, env, cwd, label, log) {
  return new Promise((resolve, reject) => {
    const logFile = path.join(cwd, "last-build.log");
    const out = fs.openSync(logFile, "w");
    const started = Date.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", out, out] });
    const timer = setInterval(() => log(`toolchain:   ... ${label} (${Math.round((Date.now() - started) / 1000)}s)`), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      fs.closeSync(out);
      if (code === 0) {
        log(`toolchain:   ${label} done in ${Math.round((Date.now() - started) / 1000)}s`);
        resolve();
      } else {
        reject(new Error(`toolchain: ${label} failed (exit ${code}):\n${fs.readFileSync(logFile, "utf8").slice(-4000)}`));
      }
    });
  });
}

function run(cmd, args, env = process.env, cwd = undefined) {
  const r = spawnSync(cmd, args, { env, cwd, encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) {
    throw new Error(`toolchain: ${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
  }
  return r.stdout;
}

function cliVersion(bin) {
  const r = spawnSync(bin, ["version"], { encoding: "utf8", timeout: 10_000, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
  return r.status === 0 ? r.stdout.trim() : null;
}

function findOnPath(name, exclude) {
  for (const d of (process.env.PATH ?? "").split(path.delimiter)) {
    if (d && path.resolve(d) !== exclude && exists(path.join(d, name))) return path.join(d, name);
  }
  return null;
}

// Hash of our language host sources, so editing langhost/ triggers a rebuild.
function hashDir(d) {
  const h = createHash("sha256");
  for (const f of fs.readdirSync(d).sort()) h.update(f).update(fs.readFileSync(path.join(d, f)));
  return h.digest("hex").slice(0, 16);
}

function writeAtomic(file, content, mode = 0o644) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

function readText(file) {
  try { return fs.readFileSync(file, "utf8"); } catch { return ""; }
}

function readJSON(file) {
  try { return JSON.parse(fs.readFileSync(file, "utf8")); } catch { return null; }
}

function exists(p) {
  return fs.existsSync(p);
}

// CLI entry point.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  resolveToolchain({ offline: args.has("--offline") }).then((tc) => {
    if (args.has("--print-env")) {
      for (const [k, v] of Object.entries(tc.env)) console.log(`export ${k}=${shellQuote(v)}`);
    } else {
      console.log(JSON.stringify(tc));
    }
  }, (err) => {
    console.error(err.message);
    process.exitCode = 1; // not process.exit(): it can cut what is still being written to a pipe
  });
}

function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
