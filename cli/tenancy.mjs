#!/usr/bin/env node
// The `tenancy` bin. The toolkit is TypeScript run in place (no build step to forget); tsx's
// loader is registered for this process only, then the CLI proper takes over.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2), { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
