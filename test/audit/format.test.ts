import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { formatAudit } from "../../audit/output.ts";
import { AUDIT_SCHEMA_FILE, auditResultJsonSchema } from "../../audit/result-schema.ts";
import { auditTampered, dropRole, entry, reachOther, relationOf, schemaOf } from "./fixture.ts";

const root = new URL("../../", import.meta.url);
// CommonJS packages whose default export NodeNext types do not see as constructable.
const require = createRequire(import.meta.url);
const AjvDraft04 = require("ajv-draft-04") as typeof import("ajv-draft-04").default;
const addFormats = require("ajv-formats") as typeof import("ajv-formats").default;

/** Several tamperings at once, one of each class, so every format shows every section. */
const tampered = () => auditTampered((s) => {
  schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE"));
  relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("PUBLIC", "SELECT"));
  s.roles.find((r) => r.name === "acme__internal__app")!.createrole = true;
  dropRole(s, "acme__us_sales__ro");
  s.schemas.push({ name: "acme__ghost", owner: "postgres", acl: [] });
  s.controlPlane.memberships.push({ workspace_slug: "internal", email: "ben@acme.test", role: "viewer" });
  s.controlPlane.memberships.find((m) => m.workspace_slug === "us-sales" && m.email === "ben@acme.test")!.role = "viewer";
  reachOther(s, "template1", "PUBLIC", ["CONNECT"], ["acme__internal__app", "acme__internal__owner", "acme__internal__ro"]);
}, { pendingInvitationDays: 7 });

const withStats = () => ({ ...tampered(), stats: { queries: 11, durationMs: 41.6 } });

describe("audit output formats (golden)", () => {
  it("text", async () => {
    await expect(formatAudit(tampered(), "text")).toMatchFileSnapshot("__snapshots__/audit.txt");
    expect(formatAudit(withStats(), "text", { verbose: true })).toMatch(/11 queries, 42 ms\n$/);
  });

  it("text when clean", async () => {
    await expect(formatAudit(auditTampered(() => {}), "text")).toMatchFileSnapshot("__snapshots__/audit-clean.txt");
  });

  it("markdown", async () => {
    await expect(formatAudit(tampered(), "markdown")).toMatchFileSnapshot("__snapshots__/audit.md");
  });

  it("json", async () => {
    await expect(formatAudit(tampered(), "json")).toMatchFileSnapshot("__snapshots__/audit.json");
  });

  it("sarif", async () => {
    await expect(formatAudit(tampered(), "sarif").replace(/"version": "\d+\.\d+\.\d+"/, '"version": "(package version)"')).toMatchFileSnapshot("__snapshots__/audit.sarif");
  });
});

// Issue 16 item 7: catalog names are chosen by whoever holds a workspace role.
describe("names from the catalogs", () => {
  const name = "acme__[Fix here](https://evil.example/fix) @acme/security-team &#8238; <b>x</b> | \u202eevil\u001b[2K\rforged";
  const result = () => auditTampered((s) => { s.schemas.push({ name, owner: "postgres", acl: [] }); });

  it("show in the text as one line each, every control and bidi character visible", () => {
    const out = formatAudit(result(), "text");
    expect(out).toContain("schema-unexpected");
    expect(out).not.toMatch(/[\u001b\r\u202e]/);
    expect(out).toContain("| \\u{202E}evil\\u{1B}[2K\\u{0D}forged");
  });

  it("render in the markdown as text: no link, mention, entity, tag or extra table cell", () => {
    const out = formatAudit(result(), "markdown");
    const html = micromark(out, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<(a|img)\b|<\/?b>|&#8238;|\u202e|\u001b|\r/);
    const row = html.split("<tr>").find((r) => r.includes("evil.example"))!;
    expect(row.match(/<td>/g)).toHaveLength(5);
    const text = row.replace(/<[^>]*>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
    expect(text).not.toMatch(/(?:^|[^\w`])@[a-z0-9]/im); // GitHub's mention pattern
    expect(text).toContain("[Fix here](https://evil.example/fix) @\u200bacme/security-team &#\u200b8238; <b>x</b> | \\u{202E}evil\\u{1B}[2K\\u{0D}forged");
  });
});

describe("audit JSON contract", () => {
  it("matches the committed JSON Schema (run `npm run schema:write-audit` after changing audit/result-schema.ts)", () => {
    expect(readFileSync(new URL(AUDIT_SCHEMA_FILE, root), "utf8")).toBe(auditResultJsonSchema());
  });

  it("every JSON output validates against the committed schema, with and without --verbose", () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(new URL(AUDIT_SCHEMA_FILE, root), "utf8")));
    for (const output of [formatAudit(tampered(), "json"), formatAudit(withStats(), "json", { verbose: true }), formatAudit(auditTampered(() => {}), "json")]) {
      expect(validate(JSON.parse(output)), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it("the schema rejects what breaks the contract", () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(auditResultJsonSchema()));
    const json = JSON.parse(formatAudit(tampered(), "json"));
    json.findings[0].class = "dangerous";
    expect(validate(json)).toBe(false);
  });
});

describe("audit SARIF", () => {
  // The OASIS SARIF 2.1.0 schema, vendored from the npm package @microsoft/jest-sarif@1.0.0-beta.0
  // (lib/schemas/sarif-2.1.0-rtm.5.json); it is JSON Schema draft-04.
  const schema = JSON.parse(readFileSync(new URL("test/fixtures/sarif/sarif-2.1.0-rtm.5.json", root), "utf8"));
  // unicodeRegExp off: the schema's `language` pattern has a stray `]` that only non-unicode regexes accept.
  const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  it("validates against the SARIF 2.1.0 JSON schema", () => {
    for (const result of [tampered(), auditTampered(() => {})]) {
      const sarif = JSON.parse(formatAudit(result, "sarif"));
      expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it("the schema check can fail: a result without a message is refused", () => {
    const sarif = JSON.parse(formatAudit(tampered(), "sarif"));
    delete sarif.runs[0].results[0].message;
    expect(validate(sarif)).toBe(false);
  });

  it("locates each finding at the declaration line it concerns", () => {
    const sarif = JSON.parse(formatAudit(tampered(), "sarif"));
    const lines = (sarif.runs[0].results as { ruleId: string; properties: { workspace?: string }; locations: { physicalLocation: { region: { startLine: number } } }[] }[])
      .map((r) => `${r.ruleId} ${r.properties.workspace} ${r.locations[0]!.physicalLocation.region.startLine}`);
    expect(lines).toContain("grant-crosses-boundary emea-support 22"); // - slug: emea-support
    expect(lines).toContain("member-role-changed us-sales 37");         // ben's role in us-sales
    expect(lines).toContain("schema-unexpected ghost 21");              // workspaces:
  });
});
