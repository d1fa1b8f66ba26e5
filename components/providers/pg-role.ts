// A PostgreSQL role as a Pulumi dynamic resource. The admin connection needs CREATEROLE, not
// SUPERUSER: on PostgreSQL 16+ the creator holds ADMIN OPTION on the roles it creates, and grants
// itself INHERIT and SET on them so it can create schemas for them, set their default privileges
// and, on delete, reassign what they own. A create that finds the role adopts it.
import * as pulumi from "@pulumi/pulumi";
import { PG_IDENTIFIER } from "../naming.ts";
import { sameServer, withClient, type PgConnection, type PgConnectionInput } from "./connection.ts";

export interface PgRoleArgs {
  /** Role name; validated as an identifier by the caller (components/naming.ts) and by check. */
  readonly name: pulumi.Input<string>;
  /** LOGIN when true (then `password` is required), NOLOGIN otherwise. */
  readonly login: pulumi.Input<boolean>;
  /** Secret; printable ASCII. Sent to the server only as a SCRAM-SHA-256 verifier. */
  readonly password?: pulumi.Input<string>;
  /** On delete, what the role owns goes to this role; default (or when it is gone): the admin. */
  readonly reassignOwnedTo?: pulumi.Input<string>;
  readonly connection: PgConnectionInput;
}

interface State { name: string; login: boolean; password?: string; reassignOwnedTo?: string; connection: PgConnection }

/** What check sees for an input not known yet (a preview before its source exists). */
export const UNKNOWN = pulumi.runtime.unknownValue;

/**
 * Runs `fn` in a transaction holding an advisory lock on `key`. Concurrent GRANTs on one catalog
 * row fail with "tuple concurrently updated", and the engine applies sibling resources in
 * parallel, so changes to one object's ACL take turns.
 */
export async function withLock<T>(client: import("pg").Client, key: string, fn: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`tenancy:${key}`]);
    const result = await fn();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Gives the admin INHERIT and SET on `role` (a no-op for superusers, or when already held). */
export async function manage(client: import("pg").Client, role: string): Promise<void> {
  const held = await client.query("SELECT pg_has_role(current_user, $1, 'USAGE') AND pg_has_role(current_user, $1, 'SET') AS ok", [role]);
  if (!held.rows[0]?.ok) await client.query(`GRANT ${client.escapeIdentifier(role)} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`);
}

/** The SCRAM-SHA-256 verifier PostgreSQL stores, so the plain password never reaches the server. */
async function scramVerifier(password: string): Promise<string> {
  const { createHash, createHmac, pbkdf2Sync, randomBytes } = await import("node:crypto");
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey}:${serverKey}`;
}

/** LOGIN/NOLOGIN plus PASSWORD; other attributes keep CREATE ROLE's safe defaults. */
async function attributes(client: import("pg").Client, state: State, withPassword: boolean): Promise<string> {
  if (!state.login) return "NOLOGIN INHERIT PASSWORD NULL";
  return withPassword ? `LOGIN INHERIT PASSWORD ${client.escapeLiteral(await scramVerifier(state.password!))}` : "LOGIN INHERIT";
}

const ELEVATED = ["rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"] as const;

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (typeof news.name !== "string" || !PG_IDENTIFIER.test(news.name)) failures.push({ property: "name", reason: `invalid role name ${JSON.stringify(news.name)}` });
    if (typeof news.login !== "boolean") failures.push({ property: "login", reason: "login must be true or false" });
    // The password is never quoted back: only what is wrong with it.
    if (news.login && news.password !== UNKNOWN && (typeof news.password !== "string" || !/^[\x21-\x7e]{16,256}$/.test(news.password))) {
      failures.push({ property: "password", reason: "a LOGIN role needs a password of 16 to 256 printable ASCII characters" });
    }
    if (!news.login && news.password !== undefined) failures.push({ property: "password", reason: "a NOLOGIN role takes no password" });
    if (news.reassignOwnedTo !== undefined && news.reassignOwnedTo !== UNKNOWN && !PG_IDENTIFIER.test(news.reassignOwnedTo)) {
      failures.push({ property: "reassignOwnedTo", reason: `invalid role name ${JSON.stringify(news.reassignOwnedTo)}` });
    }
    return { inputs: news, failures };
  },
  async diff(_id: string, olds: State, news: State) {
    const replaces = olds.name !== news.name || !sameServer(olds.connection, news.connection) ? ["name"] : [];
    const changes = replaces.length > 0 || olds.login !== news.login || olds.password !== news.password ||
      olds.reassignOwnedTo !== news.reassignOwnedTo || olds.connection.user !== news.connection.user || olds.connection.password !== news.connection.password;
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: State) {
    await withClient(inputs.connection, async (c) => {
      const found = await c.query(`SELECT ${ELEVATED.join(", ")} FROM pg_roles WHERE rolname = $1`, [inputs.name]);
      const row = found.rows[0] as Record<string, boolean> | undefined;
      const elevated = row ? ELEVATED.filter((a) => row[a]) : [];
      // Adopting a privileged role would put it inside a workspace's boundary.
      if (elevated.length > 0) throw new Error(`role ${JSON.stringify(inputs.name)} already exists with ${elevated.join(", ")}; refusing to adopt it`);
      const verb = row ? "ALTER" : "CREATE";
      await c.query(`${verb} ROLE ${c.escapeIdentifier(inputs.name)} WITH ${await attributes(c, inputs, true)}`);
      await manage(c, inputs.name);
    });
    return { id: inputs.name, outs: inputs };
  },
  async read(id: string, props: State) {
    const found = await withClient(props.connection, (c) => c.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [id]));
    const row = found.rows[0] as { rolcanlogin: boolean } | undefined;
    return row ? { id, props: { ...props, login: row.rolcanlogin } } : { id: "", props: {} };
  },
  async update(_id: string, olds: State, news: State) {
    const changed = olds.login !== news.login || olds.password !== news.password;
    if (changed) {
      await withClient(news.connection, async (c) => {
        await c.query(`ALTER ROLE ${c.escapeIdentifier(news.name)} WITH ${await attributes(c, news, news.login)}`);
        await manage(c, news.name);
      });
    }
    return { outs: news };
  },
  async delete(id: string, props: State) {
    await withClient(props.connection, async (c) => {
      const exists = await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [id]);
      if (!exists.rowCount) return;
      // DROP OWNED revokes privileges on whatever objects the role touches, shared ones included.
      await withLock(c, "drop-role", async () => {
        await manage(c, id);
        const target = props.reassignOwnedTo && props.reassignOwnedTo !== id &&
          (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [props.reassignOwnedTo])).rowCount ? props.reassignOwnedTo : undefined;
        if (target) await manage(c, target);
        // What the application created passes to the owner (a workspace's destroy then drops the
        // schema, CASCADE); DROP OWNED then removes the role's privileges and default ACLs.
        await c.query(`REASSIGN OWNED BY ${c.escapeIdentifier(id)} TO ${target ? c.escapeIdentifier(target) : "CURRENT_USER"}`);
        await c.query(`DROP OWNED BY ${c.escapeIdentifier(id)}`);
        await c.query(`DROP ROLE ${c.escapeIdentifier(id)}`);
      });
    });
  },
};

export class PgRole extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly login: pulumi.Output<boolean>;

  constructor(name: string, args: PgRoleArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { reassignOwnedTo: undefined, password: undefined, ...args, connection: pulumi.secret(args.connection) };
    if (args.password !== undefined) props.password = pulumi.secret(args.password);
    super(provider, name, props, { ...opts, additionalSecretOutputs: ["password", "connection"] }, "tenancy", "PgRole");
  }
}
