// Evidence: what an auditor needs to trust and file a result. When (the snapshot's server
// clock), which server (pg_control_system()'s system identifier, the version), which
// declaration (its sha256, the git commit it was checked out at), which toolkit and engine,
// which role audited, and a sha256 over the canonical result so the result can be signed and
// re-checked (`resultDigest` below says exactly what is hashed).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, relative, sep } from "node:path";
import { promisify } from "node:util";
import type { AuditResult } from "./audit.ts";

export interface AuditEvidence {
  /** The snapshot's time on the server's clock (ISO 8601). */
  readonly at: string;
  readonly server: {
    /** pg_control_system().system_identifier: unique per cluster, survives restarts and renames; null when the role may not read it. */
    readonly systemIdentifier: string | null;
    /** `SHOW server_version`. */
    readonly version: string;
  };
  readonly declaration: {
    readonly file: string;
    /** Its path from the repository root (git's top level; outside git, the working directory): SARIF's URI. */
    readonly repositoryPath: string;
    /** sha256 of the file's bytes. */
    readonly sha256: string;
    /** The commit checked out where the file lives, when it is in a git work tree. */
    readonly gitCommit?: string;
    /** True when the file differs from that commit (or is not committed). */
    readonly gitDirty?: boolean;
  };
  readonly toolkit: { readonly name: string; readonly version: string };
  readonly engine: {
    /** The Pulumi engine version this toolkit pins (scripts/toolchain/versions.json). */
    readonly pulumi: string;
    readonly node: string;
  };
  readonly auditor: { readonly currentUser: string; readonly sessionUser: string };
  /** sha256 (hex) over the canonical result without `evidence.resultSha256` and `stats`. */
  readonly resultSha256: string;
}

export type EvidenceWithoutDigest = Omit<AuditEvidence, "resultSha256">;

/** One statement, outside the audit's snapshot: the server's identity and who is asking. */
export const SERVER_EVIDENCE_SQL = `SELECT pg_catalog.current_setting('server_version') AS version,
    CURRENT_USER::pg_catalog.text AS current_user, SESSION_USER::pg_catalog.text AS session_user,
    CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
      THEN (SELECT c.system_identifier::pg_catalog.text FROM pg_catalog.pg_control_system() c) END AS system_identifier`;

export interface ServerEvidence {
  readonly server: AuditEvidence["server"];
  readonly auditor: AuditEvidence["auditor"];
}

export async function readServerEvidence(client: { query: (sql: string) => Promise<{ rows: unknown[] }> }): Promise<ServerEvidence> {
  const { rows } = await client.query(SERVER_EVIDENCE_SQL);
  const row = rows[0] as { version: string; current_user: string; session_user: string; system_identifier: string | null } | undefined;
  if (!row) throw new Error("the server returned no row for its identity");
  return {
    server: { systemIdentifier: row.system_identifier, version: row.version },
    auditor: { currentUser: row.current_user, sessionUser: row.session_user },
  };
}

const run = promisify(execFile);

/** The file's sha256 and, in a git work tree, the commit checked out and whether the file differs from it. */
export async function declarationEvidence(file: string, absolute: string, bytes: Buffer | string, workingDirectory: string): Promise<AuditEvidence["declaration"]> {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const cwd = dirname(absolute);
  const climbed = relative(workingDirectory, absolute).split(sep).join("/");
  // Outside the working directory (and outside git): the file name alone, never a path out of the root.
  const fromCwd = climbed.split("/").includes("..") || isAbsolute(climbed) ? basename(absolute) : climbed;
  try {
    const { stdout: top } = await run("git", ["rev-parse", "--show-toplevel"], { cwd, timeout: 5_000 });
    const { stdout: commit } = await run("git", ["rev-parse", "--verify", "HEAD"], { cwd, timeout: 5_000 });
    const { stdout: status } = await run("git", ["status", "--porcelain", "--", absolute], { cwd, timeout: 5_000 });
    const repositoryPath = relative(await realpath(top.trim()), await realpath(absolute)).split(sep).join("/");
    return { file, repositoryPath, sha256, gitCommit: commit.trim(), gitDirty: status.trim() !== "" };
  } catch {
    return { file, repositoryPath: fromCwd, sha256 }; // not in git, or no git: the digest alone identifies it
  }
}

interface PackageFacts { readonly name: string; readonly version: string; readonly pulumi: string }

/** This package's name and version and the engine it pins, from the package root (sources: one folder up; dist/: two). */
export function packageFacts(): PackageFacts {
  for (const up of ["../", "../../"]) {
    try {
      const p = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (p.name !== "tenancy-as-code" || !p.version) continue;
      let pulumi = "unknown";
      try {
        pulumi = (JSON.parse(readFileSync(new URL(`${up}scripts/toolchain/versions.json`, import.meta.url), "utf8")) as { pulumi: { version: string } }).pulumi.version;
      } catch { /* a package without the toolchain pin */ }
      return { name: p.name, version: p.version, pulumi };
    } catch { /* not here */ }
  }
  return { name: "tenancy-as-code", version: "unknown", pulumi: "unknown" };
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as RFC 8785 does), no whitespace, and
 * `undefined` members dropped: the same result always gives the same bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * The digest an auditor signs: sha256 over `canonicalJson` of the JSON result with `stats`
 * (timings differ run to run) and `evidence.resultSha256` (itself) removed. To check a saved
 * result: `jq -cS 'del(.stats, .evidence.resultSha256)' result.json | tr -d '\n' | sha256sum` gives
 * the same hex for results whose strings jq re-escapes identically (plain ASCII names do).
 */
export function resultDigest(result: AuditResult): string {
  const { stats: _stats, evidence, ...rest } = result;
  const body = evidence === undefined ? rest : { ...rest, evidence: { ...evidence, resultSha256: undefined } };
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

/** The result with its evidence and the digest over both. */
export function withEvidence(result: AuditResult, evidence: EvidenceWithoutDigest): AuditResult {
  const unsigned: AuditResult = { ...result, evidence: { ...evidence, resultSha256: "" } };
  return { ...result, evidence: { ...evidence, resultSha256: resultDigest(unsigned) } };
}

/** True when the result's recorded digest matches its content. */
export function verifyResultDigest(result: AuditResult): boolean {
  return result.evidence !== undefined && result.evidence.resultSha256 === resultDigest(result);
}
