// tenancy:postgres:WorkspaceBoundary — one workspace's whole PostgreSQL boundary as one resource
// (provider/postgres/boundary-sql.ts does the work, in one transaction). Its diff is keyed by
// grant id and role, so a preview says which privilege or role drifted.
import { grantProblems, namesIn, workspaceGrants } from "../../components/grants.ts";
import { workspaceNames, type WorkspaceNames } from "../../components/naming.ts";
import { inTransaction } from "../postgres/client.ts";
import { convergeBoundary, dropBoundary, readBoundary } from "../postgres/boundary-sql.ts";
import type { Grant } from "../postgres/grants-sql.ts";
import { loginProbeEnabled, probeLoginOncePerRun, rememberLogin } from "../postgres/login-probe.ts";
import { connectionLimitOf, passwordDigest } from "../postgres/roles.ts";
import { appPasswordOf, GENERATION } from "../keys.ts";
import { UNKNOWN, type Diff, type DiffKind, type Failure, type Keys, type ResourceKind } from "../server.ts";
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
  /** Privileges crossing the boundary, as found (empty after every apply). */
  readonly outsiders: readonly string[];
  /** The app role's CONNECTION LIMIT as found (-1: none); absent in state written before limits. */
  readonly connectionLimit?: number;
}

const expectedRoles = (n: WorkspaceNames) => ({ [n.owner]: "NOLOGIN", [n.app]: "LOGIN", [n.readonly]: "NOLOGIN" });

const scope = (i: Pick<BoundaryInputs, "organization" | "workspace" | "passwordGeneration">) => ({ organization: i.organization, workspace: i.workspace, generation: i.passwordGeneration });

function stateOf(inputs: BoundaryInputs, appPassword: string): BoundaryState {
  return { ...inputs, connectionLimit: connectionLimitOf(true, inputs.connectionLimit), passwordDigest: passwordDigest(appPassword), roles: expectedRoles(inputs.names), schemaOwner: inputs.names.owner, credentialsTable: "ok", outsiders: [] };
}

/**
 * Whether the app role refuses the password the provider derives for it (it changed its own
 * with ALTER ROLE … PASSWORD): one real login per workspace and run. Not known (no connection
 * or key yet, the role at its connection limit, pg_hba.conf) counts as not refused.
 */
async function loginRefused(state: Pick<BoundaryState, "organization" | "workspace" | "passwordGeneration" | "names" | "database">, keys: Keys): Promise<boolean> {
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
    if (await passwordChanged(olds, news, keys) || await loginRefused(olds, keys)) detailedDiff.appPassword = "update";
    if (olds.connectionLimit !== connectionLimitOf(true, news.connectionLimit)) detailedDiff.connectionLimit = "update";
    if (olds.schemaOwner !== news.names.owner) detailedDiff.schemaOwner = "update";
    if (olds.credentialsTable !== "ok") detailedDiff.credentialsTable = "update";
    if ((olds.outsiders ?? []).length > 0) detailedDiff.outsiders = "update";
    // Replacing a boundary drops the schema with its data: it must never happen silently, and
    // the old one goes first (the new one has the same names only if nothing changed).
    return { replaces, detailedDiff, deleteBeforeReplace: true } satisfies Diff;
  },
  async create(inputs, ctx) {
    const appPassword = await appPasswordOf(ctx, scope(inputs));
    await inTransaction(ctx.connection, (sql) => convergeBoundary(sql, { ...inputs, appPassword }));
    rememberLogin({ ...ctx.connection, database: inputs.database }, inputs.names.app, appPassword);
    return { id: `${inputs.organization}/${inputs.workspace}`, outs: stateOf(inputs, appPassword) };
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
    };
    const { passwordDigest: _, roles: _r, schemaOwner: _s, credentialsTable: _c, outsiders: _o, ...inputs } = outs;
    return { outs, inputs: inputs as never };
  },
  async update(_id, _olds, news, ctx) {
    const appPassword = await appPasswordOf(ctx, scope(news));
    await inTransaction(ctx.connection, (sql) => convergeBoundary(sql, { ...news, appPassword }));
    rememberLogin({ ...ctx.connection, database: news.database }, news.names.app, appPassword);
    return stateOf(news, appPassword);
  },
  async delete(_id, state, ctx) {
    await inTransaction(ctx.connection, (sql) => dropBoundary(sql, state.names, state.database));
  },
};
