// tenancy:postgres:WorkspaceBoundary — one workspace's whole PostgreSQL boundary as one resource
// (provider/postgres/boundary-sql.ts does the work, in one transaction). Its diff is keyed by
// grant id and role, so a preview says which privilege or role drifted.
import { grantProblems, namesIn, workspaceGrants } from "../../components/grants.ts";
import { workspaceNames, type WorkspaceNames } from "../../components/naming.ts";
import { inTransaction, type PgConnection } from "../postgres/client.ts";
import { convergeBoundary, readBoundary, type Converged } from "../postgres/boundary-sql.ts";
import { describeCrossing, takeBackElsewhere } from "../postgres/crossings-sql.ts";
import { crossingSignalsBatched } from "../postgres/crossings-batch.ts";
import { dropBoundary } from "../postgres/decommission-sql.ts";
import { escapeText } from "../../components/escape.ts";
import type { Grant } from "../postgres/grants-sql.ts";
import { loginProbeEnabled, probeLoginOncePerRun, rememberLogin } from "../postgres/login-probe.ts";
import { connectionLimitOf, passwordDigest } from "../postgres/roles.ts";
import { appPasswordOf, GENERATION } from "../keys.ts";
import { UNKNOWN, type Context, type Diff, type DiffKind, type Failure, type Keys, type ResourceKind } from "../server.ts";
import { canonical, identifierFailures, mapDiff } from "./common.ts";

export const WORKSPACE_BOUNDARY = "tenancy:postgres:WorkspaceBoundary";

export interface BoundaryInputs {
  readonly organization: string;
  readonly workspace: string;
  readonly names: WorkspaceNames;
  readonly database: string;
  /**
   * Which app password: the provider derives it from the master key, organization, workspace
   * and this generation ("1"; bump to rotate). Only its SCRAM verifier reaches the server, only
   * a digest reaches the state, and the password itself never leaves the plugin.
   */
  readonly passwordGeneration: string;
  /** The app role's CONNECTION LIMIT; default 20 (provider/postgres/roles.ts connectionLimitOf). */
  readonly connectionLimit?: number;
  readonly grants: Readonly<Record<string, Grant>>;
}

export interface BoundaryState extends BoundaryInputs {
  readonly passwordDigest: string;
  readonly roles: Readonly<Record<string, string>>;
  readonly schemaOwner: string;
  readonly credentialsTable: string;
  /** Privileges crossing the boundary, as found (after an apply: those in notTakenBack). */
  readonly outsiders: readonly string[];
  /** The app role's CONNECTION LIMIT as found (-1: none); absent in state written before limits. */
  readonly connectionLimit?: number;
  /**
   * Crossing privileges the last apply could not take back (granted by a role the admin cannot
   * act for, such as a superuser, or in a database it cannot connect to), one line each:
   * `<database>: <kind> <object as PostgreSQL quotes it> <grantee> <privilege>`. The apply went
   * on; a superuser must revoke these. Raw catalog text: escape it before printing.
   */
  readonly notTakenBack?: readonly string[];
  /**
   * Other databases the app role can still connect to, through PUBLIC or a grant only their
   * owner or a superuser can revoke (`postgres` and `template1` by default), one line each.
   */
  readonly otherDatabases?: readonly string[];
}

const expectedRoles = (n: WorkspaceNames) => ({ [n.owner]: "NOLOGIN", [n.app]: "LOGIN", [n.readonly]: "NOLOGIN" });

const scope = (i: Pick<BoundaryInputs, "organization" | "workspace" | "passwordGeneration">) => ({ organization: i.organization, workspace: i.workspace, generation: i.passwordGeneration });

function stateOf(inputs: BoundaryInputs, appPassword: string, left: readonly string[], otherDatabases: readonly string[]): BoundaryState {
  return { ...inputs, connectionLimit: connectionLimitOf(true, inputs.connectionLimit), passwordDigest: passwordDigest(appPassword), roles: expectedRoles(inputs.names), schemaOwner: inputs.names.owner, credentialsTable: "ok", outsiders: left, notTakenBack: left, otherDatabases };
}

/** Converges the boundary, then takes back what its roles' objects in other databases grant; never throws for what it cannot take back. */
/** A warning shown with the resource (the engine's Log service), or on stderr when there is none. */
async function warn(ctx: Context, message: string): Promise<void> {
  if (ctx.warn) await ctx.warn(message);
  else process.stderr.write(`warning: ${message}\n`);
}

async function converge(inputs: BoundaryInputs, ctx: Context): Promise<BoundaryState> {
  const appPassword = await appPasswordOf(ctx, scope(inputs));
  const done: Converged = await inTransaction(ctx.connection, (sql) => convergeBoundary(sql, { ...inputs, appPassword }));
  const left = [...done.notTakenBack.map(describeCrossing), ...await takeBackElsewhere(ctx.connection, inputs.names, done.ownedElsewhere)];
  // A warning on the resource in the engine's output; the state keeps the list (notTakenBack).
  for (const line of left) {
    const message = escapeText(`${inputs.organization}/${inputs.workspace}: could not take back a privilege crossing its boundary, ${line} (granted by a role the admin cannot act for, or in a database it cannot reach; a superuser must revoke it)`);
    await warn(ctx, message);
  }
  // What only the other database's owner or a superuser can close (PUBLIC CONNECT on an operator's
  // `postgres`, say): said on every apply, kept in the state, and a boundary finding of the audit.
  for (const line of done.otherDatabases) {
    const message = escapeText(`${inputs.organization}/${inputs.workspace}: its app role can still connect to another database of the server, outside its boundary: ${line}; that database's owner or a superuser must revoke it (README: What only a superuser can close)`);
    await warn(ctx, message);
  }
  rememberLogin({ ...ctx.connection, database: inputs.database }, inputs.names.app, appPassword);
  return stateOf(inputs, appPassword, left, done.otherDatabases);
}

/** Whether a crossing found now is one the last apply already reported as not taken back. */
function known(found: string, olds: BoundaryState): boolean {
  const left = olds.notTakenBack ?? [];
  if (left.includes(found)) return true;
  // A signal from another database (crossingSignals) matches what was left there, if anything.
  const database = found.slice(0, found.indexOf(":"));
  return database !== olds.database && left.some((l) => l.startsWith(`${database}: `));
}

/**
 * Whether the crossings found now differ from what the last apply reported it could not take
 * back: a new one is to be taken back, one gone (a superuser revoked it) to be forgotten. Read
 * live when the diff has a connection, from the state (refresh) otherwise.
 */
async function crossingsChanged(olds: BoundaryState, connection: PgConnection | undefined): Promise<boolean> {
  const found = !connection || !olds.names ? [...(olds.outsiders ?? [])]
    : await crossingSignalsBatched(connection, { names: olds.names, database: olds.database })
      .catch((error: Error) => [`(the crossing check failed: ${error.message})`]);
  // What was left in the workspace's own database is compared one by one; elsewhere, by database.
  const gone = (olds.notTakenBack ?? []).filter((l) => l.startsWith(`${olds.database}: `) && !found.includes(l));
  return found.some((o) => !known(o, olds)) || gone.length > 0;
}

/**
 * Whether the app role refuses the password the provider derives for it (it changed its own
 * with ALTER ROLE … PASSWORD): one real login per workspace and run. Not known (no connection
 * or key yet, the role at its connection limit, pg_hba.conf) counts as not refused.
 */
async function loginRefused(state: Pick<BoundaryState, "organization" | "workspace" | "passwordGeneration" | "names" | "database">, keys: Keys & { readonly connection?: PgConnection }): Promise<boolean> {
  if (!keys.connection || keys.masterKey === undefined || !loginProbeEnabled()) return false;
  const password = await appPasswordOf(keys, scope(state));
  return (await probeLoginOncePerRun({ ...keys.connection, database: state.database }, state.names.app, password)).login === "refused";
}

/** Whether the state's password digest is not the one of the password `news` names (unknown: yes). */
async function passwordChanged(olds: BoundaryState, news: BoundaryInputs, keys: Keys): Promise<boolean> {
  if (keys.masterKey === undefined || news.passwordGeneration === UNKNOWN) return true;
  return olds.passwordDigest !== passwordDigest(await appPasswordOf(keys, scope(news)));
}

export const boundaryKind: ResourceKind<BoundaryInputs, BoundaryState> = {
  token: WORKSPACE_BOUNDARY,
  check(news) {
    const failures: Failure[] = identifierFailures({ ...(news.names ?? {}), database: news.database });
    const names = new Set(Object.values(news.names ?? {}));
    for (const [id, g] of Object.entries(news.grants ?? {})) {
      if (canonical(g).includes(UNKNOWN)) continue;
      for (const reason of grantProblems({ ...g, id })) failures.push({ property: `grants.${id}`, reason });
      // By construction a boundary names only its own roles and schema: no grant can cross it.
      for (const name of namesIn({ ...g, id })) if (!names.has(name)) failures.push({ property: `grants.${id}`, reason: `names "${name}", which is not a role or schema of workspace "${news.workspace}"` });
      // On the database: CONNECT to the boundary's own database, nothing more (CREATE would let
      // the app role make schemas outside its boundary; TEMPORARY is granted only where declared).
      if (g.on.kind === "database" && g.action === "grant" && news.database !== UNKNOWN && (g.on.database !== news.database || g.privileges.some((p) => p !== "CONNECT"))) {
        failures.push({ property: `grants.${id}`, reason: `a boundary grants only CONNECT on its own database "${news.database}"; got ${g.privileges.join(", ")} on "${g.on.database}"` });
      }
    }
    if (news.passwordGeneration !== UNKNOWN && (typeof news.passwordGeneration !== "string" || !GENERATION.test(news.passwordGeneration))) {
      failures.push({ property: "passwordGeneration", reason: `a password generation is 1 to 32 lowercase letters, digits or dashes ("1", "2", "2026-12"); got ${JSON.stringify(news.passwordGeneration)}` });
    }
    if (news.connectionLimit !== undefined && (news.connectionLimit as unknown) !== UNKNOWN) {
      try { connectionLimitOf(true, news.connectionLimit); } catch (error) { failures.push({ property: "connectionLimit", reason: (error as Error).message }); }
    }
    return failures;
  },
  async diff(olds, news, keys = { masterKey: undefined }) {
    const replaces = ["organization", "workspace", "names", "database"].filter((k) => canonical((olds as never)[k]) !== canonical((news as never)[k]));
    const detailedDiff: Record<string, DiffKind> = Object.fromEntries(replaces.map((k) => [k, "update-replace" as DiffKind]));
    Object.assign(detailedDiff, mapDiff("grants", olds.grants, news.grants));
    Object.assign(detailedDiff, mapDiff("roles", olds.roles, expectedRoles(news.names)));
    // Reported as `appPassword`, what changes on the server, though only its generation is an input.
    // The password changed on the server (the app role can set its own) is the same update: the
    // verifier of the derived password is written again.
    // The login probe and the crossing check (read-only, on the live server) are independent:
    // both run at once, and the crossing check joins the other boundaries' of the moment.
    const [password, crossings] = await Promise.all([
      passwordChanged(olds, news, keys).then((changed) => changed || loginRefused(olds, keys)),
      crossingsChanged(olds, keys.connection),
    ]);
    if (password) detailedDiff.appPassword = "update";
    if (olds.connectionLimit !== connectionLimitOf(true, news.connectionLimit)) detailedDiff.connectionLimit = "update";
    if (olds.schemaOwner !== news.names.owner) detailedDiff.schemaOwner = "update";
    if (olds.credentialsTable !== "ok") detailedDiff.credentialsTable = "update";
    // Re-checked on every preview and apply, not only on refresh: one read-only query.
    if (crossings) detailedDiff.outsiders = "update";
    // Replacing a boundary drops the schema with its data: it must never happen silently, and
    // the old one goes first (the new one has the same names only if nothing changed).
    return { replaces, detailedDiff, deleteBeforeReplace: true } satisfies Diff;
  },
  async create(inputs, ctx) {
    return { id: `${inputs.organization}/${inputs.workspace}`, outs: await converge(inputs, ctx) };
  },
  async read(id, state, ctx) {
    const [organization, workspace] = id.split("/") as [string, string];
    const names = state?.names ?? workspaceNames(organization, workspace);
    const database = state?.database ?? ctx.connection.database;
    // On import there is no state: what the components would declare is what is looked for.
    const grants = state?.grants ?? Object.fromEntries(workspaceGrants(names, database).map(({ id: key, ...g }) => [key, g]));
    const found = await inTransaction(ctx.connection, (sql) => readBoundary(sql, names, database, grants));
    if (!found) return undefined;
    const passwordGeneration = state?.passwordGeneration ?? "1";
    // A password the app role changed itself: no digest of it, so the next diff resets it.
    const refused = await loginRefused({ organization, workspace, passwordGeneration, names, database }, ctx);
    const outs: BoundaryState = {
      organization, workspace, names, database, passwordGeneration, passwordDigest: refused ? "" : state?.passwordDigest ?? "", ...found,
      notTakenBack: state?.notTakenBack ?? [],
    };
    const { passwordDigest: _, roles: _r, schemaOwner: _s, credentialsTable: _c, outsiders: _o, notTakenBack: _n, otherDatabases: _d, ...inputs } = outs;
    return { outs, inputs: inputs as never };
  },
  async update(_id, _olds, news, ctx) {
    return converge(news, ctx);
  },
  async delete(_id, state, ctx) {
    await dropBoundary(ctx.connection, state.names, state.database);
  },
};
