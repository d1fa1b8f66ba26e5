// A PostgreSQL race, shown with two plain sessions and no toolkit code (for a report upstream;
// the toolkit's workaround is at inTransaction in provider/postgres/client.ts). Not a bench.
//
// Session X and session Y each run a boundary-like transaction at once (create roles, GRANT them
// to the admin WITH INHERIT, SET; a schema owned by one; serialized on a row lock). X then runs
// short transactions on its own schema while Y commits. Now and then X ends up with a stale
// membership list (roles_is_member_of in src/backend/utils/adt/acl.c: an invalidation processed
// while it reads pg_auth_members is overwritten when it caches what it read): X is denied Y's
// schema in later transactions too, while pg_auth_members grants it and a new session is let in.
// Seen on PostgreSQL 18.4, about once in ten rounds. The admin is CREATEROLE, not superuser.
//
//   npx tsx bench/repro-stale-membership.ts [rounds, default 200]
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres } from "../cli/local/postgres.ts";
import { boundaryLike, createKeys, credentialsLike, membershipView } from "./stale-membership-race.ts";

const rounds = Number(process.argv[2] ?? "200");
const dir = await mkdtemp(join(tmpdir(), "repro-stale-membership-"));
await chmod(dir, 0o755);
const port = await freePort();
const server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
const connect = async () => {
  const client = new pg.Client({ host: server.host, port, user: server.user, password: server.password, database: server.database });
  await client.connect();
  return client;
};
let X = await connect();
const Y = await connect();
console.log((await X.query("SELECT version()")).rows[0].version);
await createKeys(X);

async function boundary(c: pg.Client, s: string) {
  await c.query("BEGIN");
  await boundaryLike(c, s);
  await c.query("COMMIT");
}
async function credentials(c: pg.Client, s: string) {
  await c.query("BEGIN");
  try {
    await credentialsLike(c, s);
    await c.query("COMMIT");
  } catch (error) {
    await c.query("ROLLBACK");
    throw error;
  }
}

let stale = 0;
for (let k = 0; k < rounds; k++) {
  const a = `a${k}`, b = `b${k}`;
  const second = boundary(Y, b);
  await boundary(X, a);
  const until = Date.now() + 30;
  while (Date.now() < until) await credentials(X, a);
  await second;
  try {
    await credentials(X, b);
  } catch (error) {
    stale++;
    const fresh = await connect();
    const [x, f] = [await membershipView(X, b), await membershipView(fresh, b)];
    console.log(`round ${k}: X denied (${(error as Error).message}); X sees ${JSON.stringify(x)}, a new session ${JSON.stringify(f)}`);
    await fresh.end();
    // X stays stale until something invalidates its list: go on with a new session.
    await X.end();
    X = await connect();
    if (stale >= 3) break;
  }
}
console.log(`stale sessions: ${stale}`);
await X.end();
await Y.end();
await stopLocalPostgres({ root: dir, port });
await rm(dir, { recursive: true, force: true });
process.exit(0);
