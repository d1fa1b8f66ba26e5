// Hostile declarations, generated from one small valid declaration. Each case says what the CLI
// must report: the rule id (or `yaml`/`schema`) and the line. The test writes each to a file
// (big ones at test time only) and runs the real `tenancy validate` on it.

export const BASE = `version: 1
organization:
  slug: acme
  name: Acme Agency
  billing:
    mode: rollup
    plan: agency
    creditPool: { monthlyAllowance: 1000 }
  roles:
    admin: [workspaces.manage, members.manage]
    viewer: []
  people:
    - { email: ana@acme.test, name: Ana, orgRole: admin }
    - { email: ben@acme.test, name: Ben }
workspaces:
  - slug: emea
    name: EMEA
    members:
      - { email: ana@acme.test, role: admin }
      - { email: ben@acme.test, role: viewer }
    integrations:
      - { slug: slack, provider: slack, credentialsSecret: emeaSlackToken }
    agents:
      - { slug: aurora, name: Aurora }
    exportProfile: { letterhead: Acme, accentColour: "#0A84FF", contactBlock: "emea@acme.test" }
`;

export interface HostileCase {
  readonly name: string;
  /** The file's bytes, built lazily (some are 20 MB). */
  readonly content: () => string | Buffer;
  /** Rule ids any one of which must be reported at `line`. */
  readonly rules: readonly string[];
  /** 1-based; a function of the content for cases built at test time. */
  readonly line: number | ((text: string) => number);
  /** Text that must not appear in the output (a literal secret, a raw control character). */
  readonly absent?: readonly string[];
  /** Bound on the CLI's CPU time (user + system), ms. */
  readonly cpuMs?: number;
  /** Also acceptable: refused as a whole at this line with one of these rules (a size limit). */
  readonly orRefusedAt?: { readonly rules: readonly string[]; readonly line: number };
}

/** 1-based line of the first occurrence of `needle`. */
export function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`fixture: ${JSON.stringify(needle)} not found`);
  return text.slice(0, at).split(/\r\n?|\n/).length;
}

/** BASE with `from` (which must occur exactly once) replaced by `to`; line of the replacement. */
function edit(from: string, to: string, base = BASE): { text: string; line: number } {
  const first = base.indexOf(from);
  if (first < 0 || base.indexOf(from, first + 1) >= 0) throw new Error(`fixture: ${JSON.stringify(from)} must occur once`);
  return { text: base.slice(0, first) + to + base.slice(first + from.length), line: lineOf(base, from) };
}

function mutate(name: string, from: string, to: string, rules: string[], extra: Partial<HostileCase> = {}): HostileCase {
  const { text, line } = edit(from, to);
  return { name, content: () => text, rules, line, ...extra };
}

/** A whole document ending in `tail` appended to the base (for top-level keys). */
function append(name: string, tail: string, rules: string[], extra: Partial<HostileCase> = {}): HostileCase {
  const text = BASE + tail;
  return { name, content: () => text, rules, line: lineOf(BASE, "exportProfile") + 1, ...extra };
}

const SQL = "'; DROP SCHEMA tenancy_control CASCADE; --";
const SHELL = "$(touch /tmp/pwned)";

const yamlCases: HostileCase[] = [
  (() => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${"abcdefghi"[i]}: &${"abcdefghi"[i]} [${Array(9).fill(`*${"abcdefghi"[i - 1]}`).join(", ")}]`);
    const text = `version: 1\n${levels.join("\n")}\n`;
    return { name: "alias bomb (billion laughs)", content: () => text, rules: ["yaml"], line: 3 };
  })(),
  (() => {
    const text = `version: 1\nx: &x leaf\nmany: [${Array(150).fill("*x").join(", ")}]\n`;
    return { name: "more aliases than allowed", content: () => text, rules: ["yaml"], line: 3 };
  })(),
  { name: "alias that contains itself (sequence)", content: () => "version: 1\nloop: &a [*a]\n", rules: ["yaml"], line: 2 },
  { name: "alias that contains itself (mapping)", content: () => "version: 1\nloop: &m { self: *m }\n", rules: ["yaml"], line: 2 },
  (() => {
    const lines = ["version: 1", "m0: &m0 { k: v }"];
    for (let i = 1; i < 12; i++) lines.push(`m${i}: &m${i} { <<: [*m${i - 1}], a${i}: [*m${i - 1}, *m${i - 1}, *m${i - 1}, *m${i - 1}] }`);
    const text = lines.join("\n") + "\n";
    return { name: "merge-key alias bomb", content: () => text, rules: ["yaml"], line: 3 };
  })(),
  mutate("undefined alias", "plan: agency", "plan: *nowhere", ["yaml"]),
  { name: "duplicate top-level key", content: () => BASE + "version: 1\n", rules: ["yaml"], line: BASE.split("\n").length },
  mutate("duplicate nested key", "  name: Acme Agency\n", "  name: Acme Agency\n  name: Evil Corp\n", ["yaml"], { line: lineOf(BASE, "name: Acme Agency") + 1 }),
  mutate("duplicate key in a flow mapping", "{ email: ben@acme.test, name: Ben }", "{ email: ben@acme.test, email: eve@evil.test }", ["yaml"]),
  mutate("duplicate role in the catalogue", "    viewer: []\n", "    viewer: []\n    admin: []\n", ["yaml"], { line: lineOf(BASE, "viewer: []") + 1 }),
  mutate("look-alike key (fullwidth s)", "  - slug: emea", "  - ｓlug: emea", ["schema"]),
  { name: "flow nesting 100,000 deep", content: () => `version: 1\nx: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`, rules: ["yaml"], line: 2 },
  (() => {
    let text = "version: 1\n";
    for (let i = 0; i < 5000; i++) text += `${" ".repeat(i)}k:\n`;
    return { name: "block nesting 5,000 deep", content: () => text, rules: ["yaml"], line: 101 };
  })(),
  { name: "several documents", content: () => `${BASE}---\n${BASE}`, rules: ["yaml"], line: BASE.split("\n").length },
  { name: "empty file", content: () => "", rules: ["yaml"], line: 1 },
  { name: "comments only", content: () => "# nothing here\n# at all\n", rules: ["yaml"], line: 1 },
  mutate("tab indentation", "    mode: rollup", "\tmode: rollup", ["yaml"]),
  mutate("raw NUL byte", "name: Acme Agency", "name: Acme\u0000Agency", ["yaml"]),
  { name: "UTF-16 file", content: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BASE, "utf16le")]), rules: ["yaml"], line: 1 },
  mutate("unknown tag !!js/function", "plan: agency", "plan: !!js/function 'function () { return process.exit(0) }'", ["yaml"]),
  mutate("python object tag", "plan: agency", "plan: !!python/object/apply:os.system ['id']", ["yaml"]),
  mutate("unterminated quote", "name: EMEA", "name: \"EMEA", ["yaml"], { line: lineOf(BASE, "name: EMEA") + 1 }),
];

// Encodings and invisible characters: the line must still be right, and nothing hidden printed.
const encodingCases: HostileCase[] = [
  { name: "byte-order mark", content: () => "\ufeff" + edit("slug: acme", "slug: Acme").text, rules: ["schema"], line: lineOf(BASE, "slug: acme") },
  { name: "CRLF line endings", content: () => edit("slug: acme", "slug: Acme").text.replace(/\n/g, "\r\n"), rules: ["schema"], line: lineOf(BASE, "slug: acme") },
  { name: "lone CR line endings", content: () => edit("slug: acme", "slug: Acme").text.replace(/\n/g, "\r"), rules: ["schema"], line: lineOf(BASE, "slug: acme") },
  mutate("byte-order mark inside a slug", "slug: emea", "slug: \"em\\uFEFFea\"", ["schema"], { absent: ["\ufeff"] }),
  mutate("tab inside a slug", "slug: emea", "slug: \"em\\tea\"", ["schema"], { absent: ["em\tea"] }),
  mutate("escaped NUL in a slug", "slug: acme", "slug: \"acme\\0\"", ["schema"], { absent: ["\u0000"] }),
  mutate("terminal escape sequence in a slug", "slug: emea", "slug: \"\\e]0;owned\\a\\e[2Jemea\"", ["schema"], { absent: ["\u001b", "\u0007"] }),
  mutate("right-to-left override in a slug", "slug: emea", "slug: \"emea\u202Ecod.exe\"", ["schema"], { absent: ["\u202e"] }),
  mutate("C1 control in an agent slug", "slug: aurora", "slug: \"aur\\x9Bora\"", ["schema"], { absent: ["\u009b"] }),
  (() => {
    const [before, after] = edit("slug: emea", "slug: em\u0000ea").text.split("\u0000") as [string, string];
    const bytes = Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from(after)]);
    return { name: "invalid UTF-8 in a slug", content: () => bytes, rules: ["schema"], line: lineOf(BASE, "slug: emea") };
  })(),
];

// Wrong types, and prototype names where a lookup table is consulted.
const typeCases: HostileCase[] = [
  mutate("version as a string", "version: 1", "version: \"1\"", ["schema"]),
  mutate("version 2", "version: 1", "version: 2", ["schema"]),
  { name: "organization as a list", content: () => BASE.replace("organization:\n", "organization: [acme]\nformer:\n"), rules: ["schema", "workspace-requires-organization"], line: 2 },
  mutate("workspaces as a mapping", "workspaces:\n  - slug: emea", "workspaces:\n  emea:\n    slug: emea", ["schema", "yaml"], { line: lineOf(BASE, "workspaces:") }),
  mutate("members as a string", "    members:\n      - { email: ana@acme.test, role: admin }\n      - { email: ben@acme.test, role: viewer }", "    members: ana@acme.test", ["schema"]),
  mutate("allowance as a string", "monthlyAllowance: 1000", "monthlyAllowance: \"1000\"", ["credit-pool-per-workspace", "billing-rollup"]),
  mutate("allowance infinite", "monthlyAllowance: 1000", "monthlyAllowance: .inf", ["credit-pool-per-workspace", "billing-rollup"]),
  mutate("allowance fractional", "monthlyAllowance: 1000", "monthlyAllowance: 1.5", ["credit-pool-per-workspace", "billing-rollup"]),
  mutate("allowance beyond 2^53", "monthlyAllowance: 1000", "monthlyAllowance: 9007199254740993", ["credit-pool-per-workspace", "billing-rollup"]),
  mutate("decommissioned as yes", "    name: EMEA", "    name: EMEA\n    decommissioned: \"yes\"", ["schema"], { line: lineOf(BASE, "name: EMEA") + 1 }),
  mutate("roles as a list", "    admin: [workspaces.manage, members.manage]\n    viewer: []", "    - admin\n    - viewer", ["schema"], { line: lineOf(BASE, "roles:") }),
  mutate("slug as a number", "slug: emea", "slug: 1234", ["schema"]),
  mutate("slug null", "slug: acme", "slug: null", ["schema"]),
  mutate("email as a boolean", "{ email: ben@acme.test, name: Ben }", "{ email: true, name: Ben }", ["schema"]),
  mutate("name as a hex number", "name: EMEA", "name: 0x1F", ["schema"]),
  mutate("organization name as a list", "name: Acme Agency", "name: [Acme, Agency]", ["schema"]),
  mutate("role named __proto__", "    viewer: []", "    __proto__: []", ["yaml"]),
  mutate("member role constructor", "role: viewer", "role: constructor", ["role-defined"]),
  mutate("orgRole inherited through __proto__", "{ email: ben@acme.test, name: Ben }", "{ __proto__: { orgRole: admin }, email: ben@acme.test, name: Ben }", ["yaml"]),
  mutate("member role __proto__", "role: viewer", "role: __proto__", ["role-defined", "schema"]),
  mutate("orgRole toString", "name: Ana, orgRole: admin", "name: Ana, orgRole: tostring", ["role-defined"]),
  append("top-level __proto__ key", "__proto__: { polluted: true }\n", ["yaml"], { line: BASE.split("\n").length }),
];

// Shell and SQL metacharacters in every string that becomes an identifier, a resource name, a
// config key or a lookup key. Free text (names, letterhead) reaches SQL only as bind parameters.
const metaCases: HostileCase[] = [
  mutate("SQL in the organization slug", "slug: acme", `slug: "acme${SQL}"`, ["schema"]),
  mutate("shell in the workspace slug", "slug: emea", `slug: "emea${SHELL}"`, ["schema"]),
  mutate("quote-breaking workspace slug", "slug: emea", `slug: 'emea"; drop role tenancy_admin; --'`, ["schema"]),
  mutate("backticks in an integration slug", "slug: slack", "slug: \"slack`id`\"", ["schema"]),
  mutate("shell in an agent slug", "slug: aurora", "slug: \"aurora;rm -rf ~\"", ["schema"]),
  mutate("SQL in a role name", "    viewer: []", "    \"viewer' OR '1'='1\": []", ["schema"]),
  mutate("SQL in a permission", "[workspaces.manage, members.manage]", "[workspaces.manage, \"members.manage; GRANT ALL ON SCHEMA public TO public\"]", ["schema"]),
  mutate("pipe in a member role", "role: viewer", "role: \"viewer|sh\"", ["role-defined", "schema"]),
  mutate("shell in an orgRole", "orgRole: admin", "orgRole: \"admin&&id\"", ["role-defined", "schema"]),
  mutate("shell in a secret name", "credentialsSecret: emeaSlackToken", `credentialsSecret: "emea${SHELL}"`, ["integration-credentials-scoped"]),
  mutate("path traversal in a secret name", "credentialsSecret: emeaSlackToken", "credentialsSecret: ../../etc/passwd", ["integration-credentials-scoped"]),
  mutate("SQL in styleMemoryFrom", "{ slug: aurora, name: Aurora }", "{ slug: aurora, name: Aurora }\n      - { slug: north, name: North, styleMemoryFrom: \"aurora'--\" }", ["agent-isolated"], { line: lineOf(BASE, "slug: aurora") + 1 }),
  mutate("SQL in a person's email", "{ email: ben@acme.test, name: Ben }", `{ email: "ben${SQL}@acme.test", name: Ben }`, ["schema"]),
  mutate("semicolon in a member email", "{ email: ben@acme.test, role: viewer }", "{ email: \"ben;id@acme.test\", role: viewer }", ["schema", "member-in-directory"]),
  mutate("shell in an email domain", "{ email: ben@acme.test, name: Ben }", `{ email: "ben@acme${SHELL}.test", name: Ben }`, ["schema"]),
];

// One person written twice: case, width, script and invisible variants of one address.
const identityCases: HostileCase[] = [
  mutate("case variant of one email", "{ email: ben@acme.test, name: Ben }", "{ email: ANA@Acme.Test, name: Ana again }", ["invite-once"]),
  mutate("fullwidth variant of one email", "{ email: ben@acme.test, name: Ben }", "{ email: ａｎａ@acme.test, name: Ana again }", ["invite-once"]),
  mutate("Cyrillic look-alike of one email", "{ email: ben@acme.test, name: Ben }", "{ email: аna@acme.test, name: Ana again }", ["schema"]),
  mutate("Greek look-alike in a member email", "{ email: ben@acme.test, role: viewer }", "{ email: ben@acme.tеst, role: viewer }", ["schema", "member-in-directory"]),
  mutate("zero-width space in an email", "{ email: ben@acme.test, name: Ben }", "{ email: \"ana\u200B@acme.test\", name: Ana again }", ["schema"], { absent: ["\u200b"] }),
  mutate("member twice in case variants", "{ email: ben@acme.test, role: viewer }", "{ email: Ana@ACME.test, role: viewer }", ["invite-once"]),
];

// Derived PostgreSQL identifiers: over 63 bytes, or made equal by PostgreSQL's truncation.
const long40 = (c: string) => `${c}${"x".repeat(39)}`;
const nameCases: HostileCase[] = [
  (() => {
    const text = edit("slug: acme", `slug: ${"a".repeat(20)}`).text.replace("slug: emea", `slug: ${long40("e")}`);
    return { name: "derived names over 63 bytes", content: () => text, rules: ["resource-names-valid"], line: lineOf(text, long40("e")) };
  })(),
  (() => {
    const org = edit("slug: acme", `slug: ${"a".repeat(31)}`);
    const twin = `  - slug: ${"w".repeat(39)}b\n    name: Twin\n    members:\n      - { email: ana@acme.test, role: admin }\n`;
    const text = org.text.replace("  - slug: emea", `  - slug: ${"w".repeat(39)}a`) + twin;
    return { name: "two workspaces equal after truncation", content: () => text, rules: ["resource-names-valid"], line: lineOf(text, `slug: ${"w".repeat(39)}a`) };
  })(),
  mutate("organization slug with --", "slug: acme", "slug: ac--me", ["resource-names-valid"]),
  mutate("workspace slug shadowing another's resources", "exportProfile: { letterhead: Acme, accentColour: \"#0A84FF\", contactBlock: \"emea@acme.test\" }", "exportProfile: { letterhead: Acme, accentColour: \"#0A84FF\", contactBlock: \"emea@acme.test\" }\n  - slug: emea-secrets\n    name: Shadow\n    members:\n      - { email: ana@acme.test, role: admin }", ["resource-names-valid"], { line: lineOf(BASE, "exportProfile") + 1 }),
  mutate("upper-case workspace slug", "slug: emea", "slug: EMEA", ["schema"]),
];

// Literal credentials where a secret's name belongs, or anywhere else: refused, never echoed.
const SECRETS = {
  slack: "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
  github: "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s01",
  aws: "AKIAIOSFODNN7EXAMPLE",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  base64: "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ/+Z3Yw==",
  stripe: "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
};
const secretCases: HostileCase[] = [
  ...(["slack", "github", "aws", "jwt", "base64"] as const).map((kind) =>
    mutate(`literal ${kind} credential as credentialsSecret`, "credentialsSecret: emeaSlackToken", `credentialsSecret: "${SECRETS[kind]}"`, ["integration-credentials-scoped"], { absent: [SECRETS[kind]] })),
  mutate("PEM private key as credentialsSecret", "credentialsSecret: emeaSlackToken", "credentialsSecret: \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\"", ["integration-credentials-scoped"], { absent: ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"] }),
  mutate("credential as a mapping", "credentialsSecret: emeaSlackToken", `credentialsSecret: { token: "${SECRETS.slack}" }`, ["integration-credentials-scoped"], { absent: [SECRETS.slack] }),
  mutate("credential in a number field", "monthlyAllowance: 1000", `monthlyAllowance: "${SECRETS.stripe}"`, ["credit-pool-per-workspace", "billing-rollup"], { absent: [SECRETS.stripe] }),
  mutate("credential in the accent colour", "accentColour: \"#0A84FF\"", `accentColour: "${SECRETS.github}"`, ["export-profile-valid"], { absent: [SECRETS.github] }),
  mutate("credential as a role", "role: viewer", `role: "${SECRETS.stripe}"`, ["role-defined", "schema"], { absent: [SECRETS.stripe] }),
  mutate("password under an unknown key", "  name: Acme Agency", `  name: Acme Agency\n  adminPassword: "${SECRETS.base64}"`, ["schema"], { absent: [SECRETS.base64], line: lineOf(BASE, "name: Acme Agency") + 1 }),
  mutate("credential pasted as a key", "  name: Acme Agency", `  name: Acme Agency\n  ${SECRETS.slack}: 1`, ["schema"], { absent: [SECRETS.slack], line: lineOf(BASE, "name: Acme Agency") + 1 }),
  mutate("credential in an unterminated string", "credentialsSecret: emeaSlackToken }", `credentialsSecret: "${SECRETS.slack} }`, ["yaml"], { absent: [SECRETS.slack], line: lineOf(BASE, "credentialsSecret") + 1 }),
];

export const HOSTILE_CASES: readonly HostileCase[] = [
  ...yamlCases, ...encodingCases, ...typeCases, ...metaCases, ...identityCases, ...nameCases, ...secretCases,
];

/** 20 MB cases, built at test time: a huge directory, and one huge scalar, each with a mistake at the end. */
export function bigCases(): HostileCase[] {
  const directory = () => {
    const rows: string[] = [];
    let size = 0;
    for (let i = 0; size < 20_000_000; i++) {
      const row = `    - { email: p${i}@acme.test, name: Person ${i} }\n`;
      rows.push(row);
      size += row.length;
    }
    return edit("    - { email: ben@acme.test, name: Ben }\n", `    - { email: ben@acme.test, name: Ben }\n${rows.join("")}`).text.replace("slug: emea", "slug: EMEA");
  };
  const scalar = () => edit("name: Acme Agency", `name: ${"A".repeat(20_000_000)}`).text.replace("slug: emea", "slug: EMEA");
  return [
    { name: "20 MB directory", content: directory, rules: ["schema"], line: (text) => lineOf(text, "slug: EMEA"), cpuMs: 5_000, orRefusedAt: { rules: ["yaml"], line: 1 } },
    { name: "20 MB scalar", content: scalar, rules: ["schema"], line: (text) => lineOf(text, "slug: EMEA"), cpuMs: 5_000, orRefusedAt: { rules: ["yaml"], line: 1 } },
  ];
}
