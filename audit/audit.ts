// Declaration + live state -> one typed result that every format renders. Pure: reading the
// state is audit/read-postgres.ts's job, printing the CLI's.
import { loadDeclaration } from "../config/load.ts";
import type { TenancyModel } from "../config/model.ts";
import type { YamlSource } from "../config/source.ts";
import { checkDeclaration } from "../policies/declaration.ts";
import { effectiveAccess } from "./access.ts";
import { diffCatalog } from "./diff-catalog.ts";
import { diffControlPlane } from "./diff-control-plane.ts";
import { accessMatrix, type AccessMatrix } from "./access-matrix.ts";
import type { AuditEvidence } from "./evidence.ts";
import { applyExceptions, type ExceptionsFile } from "./exceptions.ts";
import { expectedState } from "./expected.ts";
import { CLASS_ORDER, compareFindings, dedupe, isDeviation, severityOf, type Finding, type FindingClass, type LocatedFinding } from "./findings.ts";
import type { LiveState } from "./live-state.ts";
import { modelFromControlPlane, ruleFindings } from "./model-from-state.ts";
import { withRemediation } from "./remediation.ts";

/** The JSON output's format version: bumped only for incompatible changes. */
export const AUDIT_RESULT_VERSION = 1;

export interface AuditOptions {
  /** Pending invitations older than this are reported as `info`. Default 14 days. */
  readonly pendingInvitationDays?: number;
  /** The role managing the tenancy. Default: the control-plane schema's owner, else the database's owner. */
  readonly admin?: string;
  /** Accepted findings (audit/exceptions.ts); expiry is judged on the snapshot's date. */
  readonly exceptions?: ExceptionsFile;
}

export interface AuditStats {
  /** Statements sent to PostgreSQL (fixed, whatever the tenancy's size). */
  readonly queries: number;
  readonly durationMs: number;
  /** AWS API calls, with AWS. */
  readonly awsCalls?: number;
}

export interface AuditResult {
  readonly version: typeof AUDIT_RESULT_VERSION;
  readonly organization: string;
  /** The declaration file as given. */
  readonly declaration: string;
  readonly database: string;
  /** Who the audit connected as. */
  readonly user: string;
  /** When the snapshot was taken (the server's clock). */
  readonly snapshotAt: string;
  /** No finding of severity `error` that is not excepted. */
  readonly clean: boolean;
  readonly counts: Readonly<Record<FindingClass, number>> & { readonly total: number; readonly excepted: number };
  /** Most dangerous first. */
  readonly findings: readonly LocatedFinding[];
  /** Who reaches each workspace and the control plane (audit/access-matrix.ts). */
  readonly accessMatrix?: AccessMatrix;
  readonly stats?: AuditStats;
  /** Who, what, when, against which server, and a digest to sign (audit/evidence.ts); set by the CLI. */
  readonly evidence?: AuditEvidence;
}

/** A declaration that passed validation: its model and its source for positions. */
export interface ValidDeclaration {
  readonly file: string;
  readonly model: TenancyModel;
  readonly source: YamlSource;
}

/** The validated declaration, or every violation as `file:line:col rule message` lines. */
export function loadValidDeclaration(text: string, file: string): ValidDeclaration | { readonly errors: readonly string[] } {
  const report = checkDeclaration(text, file);
  const loaded = loadDeclaration(text, file);
  if (!report.model || !loaded.ok) return { errors: report.violations.map((v) => `${v.file}:${v.line}:${v.column} ${v.rule} ${v.message}`) };
  return { file, model: report.model, source: loaded.source };
}

export function auditState(declaration: ValidDeclaration, live: LiveState, options: AuditOptions = {}, extra: readonly Finding[] = []): AuditResult {
  const expected = expectedState(declaration.model, live.database.name);
  const found = modelFromControlPlane(live.controlPlane);
  const catalogOptions = options.admin === undefined ? {} : { admin: options.admin };
  const access = effectiveAccess(expected, live, catalogOptions);
  const findings = dedupe([
    ...diffCatalog(expected, live, catalogOptions),
    ...access.findings,
    ...diffControlPlane(declaration.model, expected, live, options.pendingInvitationDays === undefined ? {} : { pendingInvitationDays: options.pendingInvitationDays }),
    ...(found ? ruleFindings(found, expected) : []),
    ...extra,
  ]).sort(compareFindings);
  const here = findings.map((f): LocatedFinding => ({ ...f, severity: severityOf(f), ...declaration.source.locate(f.path, "key") }));
  const located = withRemediation(options.exceptions ? applyExceptions(here, options.exceptions, live.snapshotAt.slice(0, 10)).sort(compareFindings) : here)
    .map((f): LocatedFinding => ({ ...f, severity: severityOf(f) }));
  const counts = Object.fromEntries(CLASS_ORDER.map((c) => [c, located.filter((f) => f.class === c).length])) as Record<FindingClass, number>;
  return {
    version: AUDIT_RESULT_VERSION,
    organization: expected.organization,
    declaration: declaration.file,
    database: live.database.name,
    user: live.currentUser,
    snapshotAt: live.snapshotAt,
    clean: !located.some(isDeviation),
    counts: { ...counts, total: located.length, excepted: located.filter((f) => f.excepted !== undefined).length },
    findings: located,
    accessMatrix: accessMatrix(expected, access.matrix, located),
  };
}
