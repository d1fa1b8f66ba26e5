// Run by program-preload.test.ts in a child process, as cmd/run runs the stack program.
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";

// cmd/run's first act: `require("source-map-support/register")`, from its own directory.
createRequire(createRequire(import.meta.url).resolve("@pulumi/pulumi/cmd/run/index.js"))("source-map-support/register");
// The SDK's own capture, as a resource constructor takes it: this call is on line 8.
const frames = (pulumi.Resource as unknown as { callsites(): { file?: string; line?: number }[] }).callsites();
const mine = frames.find((f) => f.file?.endsWith("program-preload.fixture.ts"));
const log = createRequire(import.meta.url)("@pulumi/pulumi/log") as { debug: (msg: string) => Promise<void> };
const debuggable = createRequire(import.meta.url)("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise<T>(p: Promise<T>, ctx: string): Promise<T>; promiseDebugString(p: Promise<unknown>): string; leakedPromises(): [Set<Promise<unknown>>, string] };
// An output property's capture (on the promise it is given), as the leaked-promise report prints
// it: this call is on line 15.
const leaked = Promise.resolve();
void debuggable.debuggablePromise(leaked, "a leaked output");
const leakReport = debuggable.promiseDebugString(leaked).split("\n");
// Still a leak candidate (the report's count and the run's failure come from this set).
const tracked = debuggable.leakedPromises()[0].has(leaked);
const stackTraceLimit = Error.stackTraceLimit;
const error = new Error("for a person");
console.log(JSON.stringify({ file: mine?.file, line: mine?.line, debugWrapped: log.debug.name, errorStack: error.stack?.split("\n").slice(0, 2), leakReport, tracked, stackTraceLimit }));
