// Loaded into the stack program's process before @pulumi/pulumi's cmd/run (Pulumi.yaml
// `runtime.options.nodeargs: --require`): it removes costs the Node SDK pays per registered
// resource that change nothing about what is registered. Measured with --cpu-prof on a no-change
// preview of 100 workspaces (405 resources), the first two were about a third of the program's CPU.
//
// 1. Stack captures. The SDK takes `new Error().stack` for every resource (Resource.callsites,
//    with Error.stackTraceLimit = Infinity, for the source position the engine records) and for
//    every output property (debuggablePromise, kept for its promise-leak report). cmd/run installs
//    the source-map-support package as Error.prepareStackTrace, which clones and maps every frame
//    of every capture, and still cannot read the maps tsx registers: the positions it produced
//    were `file:/…/workspace.ts` line 1. Here those two captures are formatted by V8 directly, and
//    the frames of files with a source map (tsx registers one per TypeScript module in Node's own
//    cache) are mapped through Node's findSourceMap: cheaper, and the recorded position is the real
//    line (`components/workspace.ts#63,21`). The output properties' captures are formatted only
//    when the SDK's leaked-promise report reads them. Every other stack — an error a person reads — is
//    still formatted by source-map-support, as before.
// 2. Debug log RPCs. The SDK sends ~4 debug lines per resource ("Registering resource…",
//    "RegisterResource RPC prepared/finished…") to the engine, one serialised gRPC call each,
//    which the engine drops unless run with --debug (upstream hid some of them for the same
//    reason: https://github.com/pulumi/pulumi/pull/7144). TENANCY_PROGRAM_DEBUG_LOGS=1 keeps them.
//
// 3. Output stacks nobody reads. Without PULUMI_DEBUG_PROMISE_LEAKS the leaked-promise report
//    prints no stack, so none is captured for output promises (stacklessPromiseBookkeeping). In a
//    V8 profile of a no-change preview of 1,000 workspaces (4,005 resources), after (1),
//    runtime/debuggable.js fell from 2.6 s to 0.8 s of self time; measured without profiling, the program's
//    CPU, with the config read once (components/workspace-secrets.ts stackConfig), from 16.3–16.9 s
//    to 12.7–12.9 s (quiet machine, two previews each).
//
// TENANCY_PROGRAM_PRELOAD=off leaves the SDK exactly as it is (the preview bench measures both).
"use strict";

const Module = require("node:module");
const { dirname, join } = require("node:path");
const { fileURLToPath } = require("node:url");

/** SDK modules to patch once loaded (afterLoad), by file. */
const pending = new Map();

function sdkDirectory() {
  try {
    return dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
  } catch {
    return undefined; // no SDK next to the program: cmd/run will say so itself
  }
}

const sdk = process.env.TENANCY_PROGRAM_PRELOAD === "off" ? undefined : sdkDirectory();
if (sdk !== undefined) {
  fastBookkeepingStacks(sdk);
  if (process.env.TENANCY_PROGRAM_DEBUG_LOGS !== "1") afterLoad(join(sdk, "log", "index.js"), dropPerResourceDebugLogs);
  afterLoad(join(sdk, "runtime", "debuggable.js"), stacklessPromiseBookkeeping);
}

/**
 * Patches a module of the SDK once it has loaded. It must not be loaded from here: cmd/run loads
 * its tracing instrumentation before anything that loads gRPC. So wait for the SDK to load it,
 * then patch its exports, which the SDK's compiled modules read at each call (`log_1.debug(…)`).
 */
function afterLoad(file, patch) {
  if (pending.size === 0) {
    const load = Module._load;
    Module._load = function (...args) {
      const result = load.apply(this, args);
      for (const [name, apply] of pending) {
        const module = Module._cache[name];
        if (!module?.loaded) continue;
        pending.delete(name);
        apply(module.exports);
      }
      if (pending.size === 0) Module._load = load;
      return result;
    };
  }
  pending.set(file, patch);
}

function fastBookkeepingStacks(sdk) {
  // Install source-map-support the way cmd/run's `require("source-map-support/register")` does,
  // from cmd/run's own resolution; it installs its formatter only once, so cmd/run's later
  // require leaves the wrapper below in place.
  Module.createRequire(join(sdk, "cmd", "run", "index.js"))("source-map-support").install();
  const mapped = Error.prepareStackTrace;
  if (typeof mapped !== "function") return;
  const callsites = `${join(sdk, "resource.js")}#callsites`;
  const debuggable = `${join(sdk, "runtime", "debuggable.js")}#debuggablePromise`;
  Error.prepareStackTrace = function prepareStackTrace(error, frames) {
    const top = frames[0];
    const at = top === undefined ? "" : `${top.getFileName()}#${top.getFunctionName()}`;
    if (at === callsites) return bookkeepingText(error, frames);
    // debuggablePromise keeps its stack (one per output property, ~10 per resource) only for the
    // leaked-promise report, which prints it through a template string. Formatting each at its
    // capture was a sixth of the program's CPU in a no-change preview of 100 workspaces
    // (bench/registrations.bench.ts --profile); formatted when read, the program's CPU fell by
    // 11–12% (median 4.13 → 3.63 s, 7 pairs side by side).
    if (at === debuggable) return new LazyStack(error, frames);
    return mapped(error, frames);
  };
}

function bookkeepingText(error, frames) {
  let out = String(error);
  for (const frame of frames) out += `\n    at ${frameText(frame)}`;
  return out;
}

/** A stack formatted the first time it is read as text. */
class LazyStack {
  #error;
  #frames;
  #text;
  constructor(error, frames) {
    this.#error = error;
    this.#frames = frames;
  }
  toString() {
    if (this.#text === undefined) {
      this.#text = bookkeepingText(this.#error, this.#frames);
      this.#error = this.#frames = undefined;
    }
    return this.#text;
  }
}

const maps = new Map();

/**
 * V8's own text for a frame; in a file with a source map, at its original position, written the
 * way Node's --enable-source-maps writes it (always `name (file:line:column)`, which is what the
 * SDK's frame pattern reads; a top-level frame has no name in V8's text).
 */
function frameText(frame) {
  const text = String(frame);
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file || line == null || column == null) return text;
  let map = maps.get(file);
  if (map === undefined) {
    map = Module.findSourceMap(file) ?? null;
    maps.set(file, map);
  }
  const entry = map?.findEntry(line - 1, column - 1);
  if (!entry?.originalSource) return text;
  const open = text.lastIndexOf(" (");
  const name = text.endsWith(")") && open > 0 ? text.slice(0, open) : frame.getFunctionName() || "<anonymous>";
  return `${name} (${toPath(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
}

const toPath = (file) => (file.startsWith("file://") ? fileURLToPath(file) : file);

// Per-resource bookkeeping lines of runtime/resource.js; anything else (the program's own
// pulumi.log.debug, invoke and call logs) is still sent.
const PER_RESOURCE = /^(Registering resource|RegisterResource RPC (prepared|finished)|Resource RPC serialization requested|RegisterResourceOutputs RPC (prepared|finished)):/;

function dropPerResourceDebugLogs(log) {
  const debug = log.debug;
  log.debug = function (msg, ...rest) {
    return typeof msg === "string" && PER_RESOURCE.test(msg) ? Promise.resolve() : debug.call(this, msg, ...rest);
  };
}

/**
 * debuggablePromise (runtime/debuggable.js) wraps every output property's promise (~10 per
 * resource) for the leaked-promise report, and captures a stack for each with
 * Error.stackTraceLimit = Infinity. The report prints those stacks only with
 * PULUMI_DEBUG_PROMISE_LEAKS set (and tells the reader to set it); otherwise they are never read.
 * Without that variable the capture here takes no frames: the promises are still tracked and a
 * leak still fails the run with the SDK's own message.
 */
function stacklessPromiseBookkeeping(debuggable) {
  const original = debuggable.debuggablePromise;
  debuggable.debuggablePromise = function (p, ctx) {
    if (debuggable.debugPromiseLeaks) return original(p, ctx);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return original(p, ctx);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}
