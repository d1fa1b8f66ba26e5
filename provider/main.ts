// The tenancy provider plugin: every PostgreSQL and control-plane resource of the toolkit.
// Started by the engine through ./pulumi-resource-tenancy; prints its port, then serves gRPC.
import { boundaryKind } from "./resources/boundary.ts";
import { controlPlaneKind, organizationRecordKind, workspaceRecordKind } from "./resources/control-plane.ts";
import { credentialsKind } from "./resources/credentials.ts";
import { grantKind } from "./resources/grant.ts";
import { createServer, type ResourceKind } from "./server.ts";

export const KINDS: readonly ResourceKind[] = [boundaryKind, credentialsKind, grantKind, controlPlaneKind, organizationRecordKind, workspaceRecordKind];
export const PROVIDER_VERSION = "0.1.0";

/** How often the plugin checks that the engine that started it is still there. */
export const ENGINE_WATCH_MS = 500;

// Who started us: the launcher's parent, which the launcher read before node started (it passes
// it in TENANCY_ENGINE_PID). Read here, after the modules load, process.ppid could already be
// whichever process adopted us after the engine was killed while we started (PID 1, or a
// subreaper), and the plugin would serve that one forever (test/provider/plugin-process.test.ts
// caught the late-read case once in CI). Started without the launcher, our own parent.
const engine = Number(process.env.TENANCY_ENGINE_PID) || process.ppid;
delete process.env.TENANCY_ENGINE_PID;
// Already orphaned (the engine died while we started): nobody will ever connect.
if (process.ppid !== engine || engine === 1) process.exit(1);

// The engine passes its own address last (after flags such as --logtostderr): warnings go there.
const engineAddress = process.argv.slice(2).filter((a) => !a.startsWith("-")).pop();
const port = await createServer(KINDS, PROVIDER_VERSION, engineAddress).serve();
process.stdout.write(`${port}\n`);

// An engine killed with SIGKILL (OOM killer, a cancelled CI job) never asks its plugins to stop,
// and the engine starts each plugin in a process group of its own, so nothing else stops this
// one: it would serve on forever, an orphan holding connections to the server. The engine is
// our parent (the launcher execs node), so being reparented means it is gone. A transaction in
// flight is rolled back by the server when the connection closes.
setInterval(() => {
  if (process.ppid !== engine) process.exit(1);
}, ENGINE_WATCH_MS).unref();
