// The dev stack's live state as read from a real PostgreSQL (audit/read-postgres.ts over the
// tenancy bench/audit-fixture.ts applies; test/e2e/audit-reader.test.ts checks a fresh read
// still equals it), and helpers to tamper with a copy of it, one change per test.
import { readFileSync } from "node:fs";
import { auditState, loadValidDeclaration, type AuditResult, type ValidDeclaration } from "../../audit/audit.ts";
import type { AuditOptions } from "../../audit/audit.ts";
import type { AclEntry, LiveState } from "../../audit/live-state.ts";
import { catalogContext, type CatalogContext } from "../../audit/catalog/context.ts";
import { expectedState } from "../../audit/expected.ts";
import { compareFindings, type Finding } from "../../audit/findings.ts";

export const DEV_FILE = "stacks/dev/tenancy.yaml";
const root = new URL("../../", import.meta.url);

export function devDeclaration(text = readFileSync(new URL(DEV_FILE, root), "utf8")): ValidDeclaration {
  const d = loadValidDeclaration(text, DEV_FILE);
  if ("errors" in d) throw new Error(d.errors.join("\n"));
  return d;
}

export function devLive(): LiveState {
  return JSON.parse(readFileSync(new URL("test/fixtures/audit/dev-live.json", root), "utf8")) as LiveState;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? Mutable<U>[] : T[K] extends object ? Mutable<T[K]> : T[K] };
export type MutableState = Mutable<LiveState>;

/** The dev state with `change` applied to a copy, audited against the dev declaration. */
export function auditTampered(change: (s: MutableState) => void, options: AuditOptions = {}): AuditResult {
  const state = devLive() as MutableState;
  change(state);
  return auditState(devDeclaration(), state as LiveState, options);
}

export const entry = (grantee: string, privilege: string, grantor = "postgres"): AclEntry => ({ grantee, privilege, grantable: false, grantor });

/**
 * Another database of the server letting `roles` in, as the reader would find it: `grantee`
 * (PUBLIC, one of the roles, or a role they are members of) holds `privileges` on it, and
 * has_database_privilege says each of `roles` holds them.
 */
export function reachOther(s: MutableState, database: string, grantee: string, privileges: string[], roles: string[]): void {
  const d = s.server.databases.find((x) => x.name === database);
  if (!d) throw new Error(`no database ${database} in the fixture`);
  d.acl.push(...privileges.map((p) => entry(grantee, p)));
  d.reach = [...(d.reach ?? []), ...roles.map((role) => ({ role, privileges: [...privileges] }))];
}

export function schemaOf(s: MutableState, name: string) {
  const found = s.schemas.find((x) => x.name === name);
  if (!found) throw new Error(`no schema ${name} in the fixture`);
  return found;
}

export function relationOf(s: MutableState, schema: string, name: string) {
  const found = s.relations.find((x) => x.schema === schema && x.name === name);
  if (!found) throw new Error(`no relation ${schema}.${name} in the fixture`);
  return found;
}

/** Drops a role the way DROP OWNED + DROP ROLE does: its ACL entries, defaults and memberships go too. */
export function dropRole(s: MutableState, role: string): void {
  s.roles = s.roles.filter((r) => r.name !== role);
  const keep = (acl: AclEntry[]) => acl.filter((e) => e.grantee !== role);
  s.database.acl = keep(s.database.acl);
  for (const x of [...s.schemas, ...s.relations, ...s.functions]) x.acl = keep(x.acl);
  s.defaultAcls = s.defaultAcls.filter((d) => d.role !== role).map((d) => ({ ...d, acl: keep(d.acl) }));
  s.memberships = s.memberships.filter((m) => m.role !== role && m.member !== role);
}

/**
 * Findings as `class id workspace`, leaving out the server-level warnings and information the
 * fixture's embedded server always has (no TLS, no connection logging, no pgaudit):
 * test/audit/catalog/server.test.ts asserts those.
 */
export const summary = (r: AuditResult) => r.findings.filter((f) => !(f.class === "server" && f.severity !== "error")).map((f) => `${f.class} ${f.id} ${f.workspace ?? "-"}`);

/** One catalog check alone on the dev state with `change` applied: its findings, summarised and sorted. */
export function checkTampered(check: (ctx: CatalogContext) => void, change: (s: MutableState) => void): { summary: string[]; findings: Finding[] } {
  const state = devLive() as MutableState;
  change(state);
  const live = state as LiveState;
  const ctx = catalogContext(expectedState(devDeclaration().model, live.database.name), live);
  check(ctx);
  const findings = [...ctx.findings].sort(compareFindings);
  return { summary: findings.map((f) => `${f.class} ${f.id} ${f.workspace ?? "-"}`), findings };
}
