// The steps of the stale role-membership race (explained at inTransaction in
// provider/postgres/client.ts), in plain SQL with no toolkit code: shared by the upstream repro
// (bench/repro-stale-membership.ts) and the test of the toolkit's workaround
// (test/provider/postgres/stale-membership.test.ts). Each runs inside the caller's transaction.
// Schema names are the caller's own constants (`a1`, `b1`), never input.
import type pg from "pg";

type Queryable = Pick<pg.ClientBase, "query">;

/** The row every boundary locks, as the admin's database key does (provider/postgres/locks.ts). */
export async function createKeys(sql: Queryable): Promise<void> {
  await sql.query("CREATE SCHEMA race; CREATE TABLE race.keys (k text PRIMARY KEY); INSERT INTO race.keys VALUES ('db')");
}

/** As a boundary: roles granted to the admin, a schema and table owned by one, then the database key. */
export async function boundaryLike(sql: Queryable, s: string): Promise<void> {
  for (const role of [`${s}__owner`, `${s}__app`]) {
    await sql.query(`CREATE ROLE ${role} NOLOGIN INHERIT`);
    await sql.query(`GRANT ${role} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`);
  }
  await sql.query(`CREATE SCHEMA ${s} AUTHORIZATION ${s}__owner`);
  await sql.query(`SET LOCAL ROLE ${s}__owner`);
  await sql.query(`CREATE TABLE ${s}.t (k text PRIMARY KEY)`);
  await sql.query("RESET ROLE");
  await sql.query(`GRANT USAGE ON SCHEMA ${s} TO ${s}__app`);
  await sql.query("SELECT 1 FROM race.keys WHERE k = 'db' FOR UPDATE");
}

/** As a credentials write: the admin locks the table through its membership, then writes as the owner. */
export async function credentialsLike(sql: Queryable, s: string): Promise<void> {
  await sql.query(`LOCK TABLE ONLY ${s}.t IN SHARE ROW EXCLUSIVE MODE`);
  await sql.query(`SET LOCAL ROLE ${s}__owner`);
  await sql.query(`INSERT INTO ${s}.t VALUES ('x') ON CONFLICT DO NOTHING`);
  await sql.query("RESET ROLE");
}

/** What a session believes of the admin's privileges on schema `s`, and what the catalog holds. */
export async function membershipView(sql: Queryable, s: string): Promise<{ pid: number; usage: boolean; granted: boolean }> {
  const found = await sql.query(`SELECT pg_catalog.pg_backend_pid() AS pid, pg_catalog.has_schema_privilege($1, 'USAGE') AS usage,
      EXISTS (SELECT FROM pg_catalog.pg_auth_members m WHERE m.roleid = $2::regrole AND m.member = CURRENT_USER::regrole AND m.inherit_option) AS granted`, [s, `${s}__owner`]);
  return found.rows[0] as { pid: number; usage: boolean; granted: boolean };
}
