// What the sealed-credentials table (CREDENTIALS_TABLE in each workspace schema) must be, as
// facts read from the catalogs and judged here. Pure: the provider refuses to touch a table with
// problems (provider/postgres/credentials-table.ts) and the audit reports them
// (audit/diff-catalog.ts), from the same facts and the same judgement.

/** Columns by name: type oid (pg_catalog.text 25, bytea 17, timestamptz 1184). */
const COLUMNS: Readonly<Record<string, number>> = { slug: 25, provider: 25, ciphertext: 17, nonce: 17, key_id: 25, updated_at: 1184 };
// NOT NULL constraints (catalogued since PostgreSQL 18) run nothing and are not listed.
const CONSTRAINTS = new Set(["p:PRIMARY KEY (slug)", "c:CHECK ((octet_length(nonce) = 12))"]);

/** The table as the catalogs describe it (provider/postgres/credentials-table.ts reads it). */
export interface CredentialsTableFacts {
  /** pg_class.relkind: 'r' for a plain table. */
  readonly relkind: string;
  readonly owner: string;
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  readonly partition: boolean;
  readonly triggers: number;
  readonly rules: number;
  readonly policies: number;
  readonly inheritance: number;
  /** Indexes other than the plain primary key. */
  readonly indexes: number;
  /** `name:type oid:has default:generated`. */
  readonly columns: readonly string[] | null;
  /** `contype:definition`, NOT NULL ones left out. */
  readonly constraints: readonly string[] | null;
  /** The catalog of each object outside pg_catalog its defaults, constraints or index depend on. */
  readonly foreign: readonly string[] | null;
}

/** What is wrong with the table's structure; empty when it is the toolkit's plain table. */
export function structureProblems(f: CredentialsTableFacts): string[] {
  const problems: string[] = [];
  if (f.triggers > 0) problems.push(`it has ${f.triggers} trigger(s)`);
  if (f.rules > 0) problems.push(`it has ${f.rules} rule(s)`);
  if (f.policies > 0 || f.rowSecurity || f.forceRowSecurity) problems.push("it has row-level security or policies");
  if (f.inheritance > 0 || f.partition) problems.push("it takes part in inheritance or partitioning");
  if (f.indexes > 0) problems.push(`it has ${f.indexes} index(es) besides its primary key`);
  const columns = new Map<string, string[]>((f.columns ?? []).map((c) => { const [name, ...rest] = c.split(":"); return [name!, rest]; }));
  for (const [name, [type, hasDefault, generated] = []] of columns) {
    if (COLUMNS[name] === undefined) problems.push(`it has an unexpected column "${name}"`);
    else if (Number(type) !== COLUMNS[name]) problems.push(`column "${name}" has an unexpected type`);
    else if (generated === "true" || (hasDefault === "true" && name !== "updated_at")) problems.push(`column "${name}" has a default or generated expression`);
  }
  for (const name of Object.keys(COLUMNS)) if (!columns.has(name)) problems.push(`column "${name}" is missing`);
  for (const k of f.constraints ?? []) if (!CONSTRAINTS.has(k)) problems.push(`it has an unexpected constraint: ${k.slice(2)}`);
  const foreign = f.foreign ?? [];
  if (foreign.length > 0) problems.push(`it depends on ${foreign.length} object(s) outside pg_catalog (${[...new Set(foreign)].join(", ")})`);
  return problems;
}

/** Kind, owner and structure: empty when it is the plain table owned by `owner`. */
export function credentialsTableProblems(f: CredentialsTableFacts, owner: string): string[] {
  if (f.relkind !== "r") return [`it is not a plain table (relkind '${f.relkind}')`];
  return [...(f.owner === owner ? [] : [`it is owned by "${f.owner}", not "${owner}"`]), ...structureProblems(f)];
}
