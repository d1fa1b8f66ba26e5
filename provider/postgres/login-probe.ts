// Proves a workspace's app role still logs in with the password the provider derives. The app
// role can change its own password (`ALTER ROLE current_user PASSWORD '…'`, which PostgreSQL
// allows every role) and the catalogs the admin reads show only a verifier with a fresh salt, so
// the only proof is a real login: one connection as the app role, `SELECT 1`, closed.
//
// Only a refused password (SQLSTATE 28P01) counts as drift. Anything else says nothing about the
// password and changes nothing: the role at its connection limit (53300), a pg_hba.conf that
// does not let the provider's host log in as app roles (28000), the server unreachable.
import pg from "pg";
import { escapeText } from "../../components/escape.ts";
import type { PgConnection } from "./client.ts";
import { passwordDigest } from "./roles.ts";

export type ProbeResult =
  | { readonly login: "ok" }
  | { readonly login: "refused" }
  /** Not known: `reason` says why, in one line that never holds the password. */
  | { readonly login: "unknown"; readonly reason: string };

const INVALID_PASSWORD = "28P01";

/**
 * TENANCY_LOGIN_PROBE=off turns the provider's probe off (where app roles may log in only from the
 * application's network, say): a password an app role changed then goes unseen until an audit.
 */
export function loginProbeEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.TENANCY_LOGIN_PROBE !== "off";
}

/** The provider's probes: one per role, password and server per plugin process (one engine run). */
const probes = new Map<string, Promise<ProbeResult>>();
const keyOf = (c: Pick<PgConnection, "host" | "port" | "database">, user: string, password: string) =>
  JSON.stringify([c.host, Number(c.port), c.database, user, passwordDigest(password)]);

/** Logs in as `user` with `password` on `target`'s server and database. Never throws. */
export function probeLogin(target: Pick<PgConnection, "host" | "port" | "database">, user: string, password: string): Promise<ProbeResult> {
  return loginOnce(target, user, password);
}

/** probeLogin, once per process: a refresh and the diff after it share one login. */
export function probeLoginOncePerRun(target: Pick<PgConnection, "host" | "port" | "database">, user: string, password: string): Promise<ProbeResult> {
  const key = keyOf(target, user, password);
  let probe = probes.get(key);
  if (!probe) {
    probe = loginOnce(target, user, password);
    probes.set(key, probe);
  }
  return probe;
}

/** After the provider set the password itself: later diffs of this run need no probe. */
export function rememberLogin(target: Pick<PgConnection, "host" | "port" | "database">, user: string, password: string): void {
  probes.set(keyOf(target, user, password), Promise.resolve({ login: "ok" }));
}

/**
 * Probes at once, per process: the engine diffs many workspaces in parallel, and each probe is
 * a connection of another role, which no role's limit bounds; the server allows ~100 in all.
 */
export const PROBES_AT_ONCE = 4;
let running = 0;
const waiting: (() => void)[] = [];

async function loginOnce(target: Pick<PgConnection, "host" | "port" | "database">, user: string, password: string): Promise<ProbeResult> {
  // A finished probe hands its slot to the next waiting one, so no newcomer slips in between.
  if (running >= PROBES_AT_ONCE) await new Promise<void>((go) => waiting.push(go));
  else running++;
  try {
    return await login(target, user, password);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

async function login(target: Pick<PgConnection, "host" | "port" | "database">, user: string, password: string): Promise<ProbeResult> {
  const client = new pg.Client({
    host: target.host, port: Number(target.port), database: target.database, user, password,
    connectionTimeoutMillis: 10_000, statement_timeout: 10_000, application_name: "tenancy-login-probe",
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { login: "ok" };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === INVALID_PASSWORD) return { login: "refused" };
    // Past authentication (no CONNECT on the database, say): the password itself is fine.
    if (code === "42501" || code === "3D000") return { login: "ok" };
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    // The server's words name roles and databases: one line, every invisible character shown.
    return { login: "unknown", reason: escapeText(code ? `${message} (SQLSTATE ${code})` : message) };
  } finally {
    await client.end().catch(() => {});
  }
}
