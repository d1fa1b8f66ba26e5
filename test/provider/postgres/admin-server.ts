// An embedded PostgreSQL of its own for a provider test, with the toolkit's CREATEROLE admin (not
// a superuser), as the demo and the e2e harness run it. stop() also removes its folder.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres } from "../../../cli/local/postgres.ts";
import { freePort } from "../../../cli/local/net.ts";
import type { PgConnection } from "../../../provider/postgres/client.ts";

export async function startAdminServer(name: string): Promise<{ connection: PgConnection; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `tenancy-${name}-`));
  await chmod(dir, 0o755); // the server's own folder inside stays private (0700, postgres-owned)
  const port = await freePort();
  const admin = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
  return {
    connection: { host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: admin.database },
    async stop() {
      await stopLocalPostgres({ root: dir, port });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
