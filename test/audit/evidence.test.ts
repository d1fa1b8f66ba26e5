// Evidence: every format carries who audited what, when, against which server, and a digest
// over the canonical result that changes with any change to the result.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { canonicalJson, declarationEvidence, packageFacts, resultDigest, verifyResultDigest } from "../../audit/evidence.ts";
import { formatAudit } from "../../audit/output.ts";
import { AUDIT_SCHEMA_FILE } from "../../audit/result-schema.ts";
import { tamperedReport } from "./report-fixture.ts";

const root = join(import.meta.dirname, "../..");

describe("audit evidence", () => {
  it("canonical JSON sorts keys at every level and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: [{ d: "x", c: undefined, e: null }], "é": true })).toBe('{"a":[{"d":"x","e":null}],"b":1,"é":true}');
  });

  it("the digest covers the result: it verifies, and any change to a finding or the evidence breaks it", () => {
    const result = tamperedReport();
    expect(result.evidence!.resultSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyResultDigest(result)).toBe(true);
    expect(verifyResultDigest({ ...result, findings: result.findings.slice(1) })).toBe(false);
    expect(verifyResultDigest({ ...result, evidence: { ...result.evidence!, auditor: { currentUser: "x", sessionUser: "x" } } })).toBe(false);
    // Timings are not content: --verbose does not change the digest.
    expect(resultDigest({ ...result, stats: { queries: 11, durationMs: 3 } })).toBe(result.evidence!.resultSha256);
  });

  it("an auditor re-computes the digest from the JSON output alone", () => {
    const json = JSON.parse(formatAudit(tamperedReport(), "json")) as { evidence: { resultSha256?: string } };
    const recorded = json.evidence.resultSha256;
    delete json.evidence.resultSha256;
    expect(createHash("sha256").update(canonicalJson(json)).digest("hex")).toBe(recorded);
  });

  it("every format shows it", () => {
    const result = tamperedReport();
    const digest = result.evidence!.resultSha256;
    for (const format of ["text", "markdown", "html"] as const) {
      const out = formatAudit(result, format);
      expect(out, format).toContain(digest);
      expect(out, format).toContain("7412345678901234567");
      expect(out, format).toContain("audit_login");
    }
    expect(JSON.parse(formatAudit(result, "json")).evidence.resultSha256).toBe(digest);
    expect(JSON.parse(formatAudit(result, "sarif")).runs[0].properties.evidence.resultSha256).toBe(digest);
  });

  it("the JSON with evidence, exceptions and remediation validates against the committed schema", () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(join(root, AUDIT_SCHEMA_FILE), "utf8")));
    const json = JSON.parse(formatAudit(tamperedReport(), "json"));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    json.evidence.resultSha256 = "not a digest";
    expect(validate(json)).toBe(false);
  });

  it("names the declaration by digest, commit and repository path inside git", async () => {
    const file = join(root, "stacks/dev/tenancy.yaml");
    const bytes = readFileSync(file);
    const e = await declarationEvidence("stacks/dev/tenancy.yaml", file, bytes, root);
    expect(e.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(e.repositoryPath).toBe("stacks/dev/tenancy.yaml");
    expect(e.gitCommit).toBe(execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim());
    expect(typeof e.gitDirty).toBe("boolean");
  });

  it("outside git: the digest and the path from the working directory, no commit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenancy-evidence-"));
    try {
      writeFileSync(join(dir, "tenancy.yaml"), "x: 1\n");
      const e = await declarationEvidence("tenancy.yaml", join(dir, "tenancy.yaml"), "x: 1\n", dir);
      expect(e).toEqual({ file: "tenancy.yaml", repositoryPath: "tenancy.yaml", sha256: createHash("sha256").update("x: 1\n").digest("hex") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("knows the toolkit's version and the engine it pins", () => {
    const facts = packageFacts();
    expect(facts.version).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
    expect(facts.pulumi).toBe(JSON.parse(readFileSync(join(root, "scripts/toolchain/versions.json"), "utf8")).pulumi.version);
  });
});
