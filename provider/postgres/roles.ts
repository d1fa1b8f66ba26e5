// Roles of a workspace boundary. The admin needs CREATEROLE, not SUPERUSER: on PostgreSQL 16+ the
// creator holds ADMIN OPTION on the roles it creates and grants itself INHERIT and SET on them, so
// it can create the schema for the owner, set default privileges, and reassign or drop what a
// role owns. Holding a role's privileges runs none of its code: only statements that execute
// functions (DML on a table, a view, an expression) could, and those run verified or as the owner.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { DEFAULT_APP_CONNECTION_LIMIT, MAX_APP_CONNECTION_LIMIT } from "../../config/schema.ts";
import type { Sql } from "./client.ts";

export const ELEVATED = ["rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"] as const;
const ELEVATED_SQL: Record<(typeof ELEVATED)[number], string> = {
  rolsuper: "SUPERUSER", rolcreaterole: "CREATEROLE", rolcreatedb: "CREATEDB", rolreplication: "REPLICATION", rolbypassrls: "BYPASSRLS",
};

/** Attributes a CREATEROLE admin can take away from a role it administers. */
const REMOVABLE: readonly string[] = ["CREATEROLE", "CREATEDB"];

export interface RoleFound {
  readonly login: boolean;
  /** Attributes a workspace role must never have, as SQL keywords. */
  readonly elevated: readonly string[];
  /** CONNECTION LIMIT: sessions the role may hold at once; -1 for none. */
  readonly connectionLimit: number;
}

/** The roles among `names` that exist, with what matters about them. */
export async function findRoles(sql: Sql, names: readonly string[]): Promise<Map<string, RoleFound>> {
  const found = await sql.query(`SELECT rolname, rolcanlogin, rolconnlimit, ${ELEVATED.join(", ")} FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])`, [names]);
  return new Map(found.rows.map((r) => [r.rolname as string, { login: r.rolcanlogin as boolean, elevated: ELEVATED.filter((a) => r[a]).map((a) => ELEVATED_SQL[a]), connectionLimit: r.rolconnlimit as number }]));
}

/**
 * The CONNECTION LIMIT of a workspace role: the declared one for a login role (config/schema.ts,
 * default 20), 0 for a role that cannot log in. A limit is what keeps one workspace from taking
 * every connection the server has: the admin's reserve (reserved_connections) is the rest.
 */
export function connectionLimitOf(login: boolean, declared: number | undefined): number {
  if (!login) return 0;
  const limit = declared ?? DEFAULT_APP_CONNECTION_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_APP_CONNECTION_LIMIT) {
    throw new Error(`a connection limit is a whole number of sessions from 1 to ${MAX_APP_CONNECTION_LIMIT}; got ${JSON.stringify(limit)}`);
  }
  return limit;
}

/** The SCRAM-SHA-256 verifier PostgreSQL stores, so the plain password never reaches the server. */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey}:${serverKey}`;
}

/** A digest that tells a changed password without keeping it (the password is 256 bits of HKDF output). */
export function passwordDigest(password: string): string {
  return createHmac("sha256", password).update("tenancy-as-code/app-password-digest/v1").digest("hex").slice(0, 32);
}

/**
 * Creates the role or brings an existing one to the declared attributes. A role holding an
 * elevated attribute is refused: the admin could not take it away (only a superuser can), and
 * adopting it would put that power inside a workspace.
 */
export async function ensureRole(sql: Sql, name: string, found: RoleFound | undefined, login: boolean, password?: string, connectionLimit?: number): Promise<void> {
  const elevated = found?.elevated ?? [];
  const superuserOnly = elevated.filter((a) => !REMOVABLE.includes(a));
  if (superuserOnly.length > 0) {
    throw new Error(`refusing to manage role "${name}": it has ${superuserOnly.join(", ")}, which no workspace role may hold and only a superuser can take away (ALTER ROLE ${name} ${superuserOnly.map((a) => `NO${a}`).join(" ")})`);
  }
  // CREATEROLE and CREATEDB a CREATEROLE admin can take away itself (it must hold them).
  const taken = elevated.map((a) => ` NO${a}`).join("");
  const limit = ` CONNECTION LIMIT ${connectionLimitOf(login, connectionLimit)}`;
  const attributes = (login ? `LOGIN INHERIT PASSWORD ${sql.escapeLiteral(scramVerifier(password!))}` : "NOLOGIN INHERIT PASSWORD NULL") + limit + taken;
  await sql.query(`${found ? "ALTER" : "CREATE"} ROLE ${sql.escapeIdentifier(name)} WITH ${attributes}`);
  await manage(sql, name);
}

/** Gives the admin INHERIT and SET on `role` (a no-op for superusers, or when already held). */
export async function manage(sql: Sql, role: string): Promise<void> {
  const held = await sql.query("SELECT pg_catalog.pg_has_role(current_user, $1, 'USAGE') AND pg_catalog.pg_has_role(current_user, $1, 'SET') AS ok", [role]);
  if (!held.rows[0]?.ok) {
    await sql.query(`GRANT ${sql.escapeIdentifier(role)} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`).catch((error: Error) => {
      throw new Error(`cannot manage role "${role}": ${error.message} (the admin must have created it, or hold ADMIN OPTION on it)`);
    });
  }
}
