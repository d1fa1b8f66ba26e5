// tenancy:postgres:WorkspaceCredentials — a workspace's integration credentials, sealed
// (AES-256-GCM, components/credentials-crypto.ts) into its `integration_credentials` table, which
// the boundary creates. The rows are written as the workspace's owner role, after the table was
// locked and checked to be the toolkit's plain table (provider/postgres/credentials-table.ts): a
// trigger, rule or policy a workspace planted is refused, never run. State keeps each credential's
// key id and a keyed digest, never a value or a key.
import { credentialAad, credentialDigest, dataKeyId, sealCredential } from "../../components/credentials-crypto.ts";
import { asRole, inTransaction, lock, type Sql } from "../postgres/client.ts";
import { lockVerified, qualified, tableStatus, type TableNames } from "../postgres/credentials-table.ts";
import { UNKNOWN, type DiffKind, type Failure, type ResourceKind } from "../server.ts";
import { identifierFailures, mapDiff } from "./common.ts";

export const WORKSPACE_CREDENTIALS = "tenancy:postgres:WorkspaceCredentials";

export interface CredentialsInputs {
  readonly organization: string;
  readonly workspace: string;
  readonly names: TableNames;
  /** A secret: the workspace's data key (base64, 32 bytes). */
  readonly key: string;
  /** By integration slug; `value` is a secret. */
  readonly integrations: Readonly<Record<string, { readonly provider: string; readonly value: string }>>;
}

export interface CredentialsState {
  readonly organization: string;
  readonly workspace: string;
  readonly names: TableNames;
  readonly keyId: string;
  /** By slug: provider and a keyed digest of the sealed value. */
  readonly sealed: Readonly<Record<string, { readonly provider: string; readonly digest: string }>>;
  /** "ok", or what is wrong with the table (refresh). */
  readonly table: string;
}

const SLUG = /^[a-z][a-z0-9-]{0,62}$/;

async function digests(inputs: CredentialsInputs): Promise<CredentialsState["sealed"]> {
  const out: Record<string, { provider: string; digest: string }> = {};
  for (const [slug, i] of Object.entries(inputs.integrations)) {
    out[slug] = { provider: i.provider, digest: await credentialDigest(inputs.key, i.value, credentialAad(inputs.names.schema, slug)) };
  }
  return out;
}

async function write(sql: Sql, inputs: CredentialsInputs): Promise<void> {
  const n = inputs.names;
  await lock(sql, `credentials:${n.schema}`);
  await lockVerified(sql, n);
  const rows = [];
  for (const [slug, i] of Object.entries(inputs.integrations)) rows.push({ slug, provider: i.provider, ...(await sealCredential(inputs.key, i.value, credentialAad(n.schema, slug))) });
  const table = qualified(sql, n);
  // As the owner role: even if something slipped past the check, it would run with the
  // workspace's own rights, never the admin's.
  await asRole(sql, n.owner, async () => {
    for (const r of rows) {
      await sql.query(`INSERT INTO ${table} (slug, provider, ciphertext, nonce, key_id, updated_at)
        VALUES ($1::pg_catalog.text, $2::pg_catalog.text, $3::pg_catalog.bytea, $4::pg_catalog.bytea, $5::pg_catalog.text, pg_catalog.now())
        ON CONFLICT (slug) DO UPDATE SET provider = EXCLUDED.provider, ciphertext = EXCLUDED.ciphertext,
          nonce = EXCLUDED.nonce, key_id = EXCLUDED.key_id, updated_at = EXCLUDED.updated_at`, [r.slug, r.provider, r.ciphertext, r.nonce, r.keyId]);
    }
    await sql.query(`DELETE FROM ${table} WHERE NOT (slug OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]))`, [rows.map((r) => r.slug)]);
  });
}

export const credentialsKind: ResourceKind<CredentialsInputs, CredentialsState> = {
  token: WORKSPACE_CREDENTIALS,
  check(news) {
    const failures: Failure[] = identifierFailures({ ...(news.names ?? {}) });
    for (const [slug, i] of Object.entries(news.integrations ?? {})) {
      if (!SLUG.test(slug)) failures.push({ property: "integrations", reason: `invalid integration slug ${JSON.stringify(slug)}` });
      // Never quote the value or the key: only say what is wrong with them.
      if (i.value !== UNKNOWN && (typeof i.value !== "string" || i.value.length === 0)) failures.push({ property: `integrations.${slug}`, reason: "the credential is empty" });
    }
    return failures;
  },
  async diff(olds, news) {
    const replaces = ["organization", "workspace"].filter((k) => (olds as never)[k] !== (news as never)[k]);
    const detailedDiff: Record<string, DiffKind> = Object.fromEntries(replaces.map((k) => [k, "update-replace" as DiffKind]));
    if (JSON.stringify(olds.names) !== JSON.stringify(news.names)) detailedDiff.names = "update";
    // Values are compared by keyed digest; an unknown key or value (rotation in the same run) is a change.
    const unknown = news.key === UNKNOWN || Object.values(news.integrations ?? {}).some((i) => i.value === UNKNOWN);
    const expected = unknown ? undefined : await digests(news);
    if (unknown) detailedDiff.integrations = "update";
    else {
      if ((await dataKeyId(news.key)) !== olds.keyId) detailedDiff.key = "update";
      Object.assign(detailedDiff, mapDiff("integrations", olds.sealed, expected));
    }
    if (olds.table !== "ok") detailedDiff.table = "update";
    return { replaces, detailedDiff };
  },
  async create(inputs, ctx) {
    await inTransaction(ctx.connection, (sql) => write(sql, inputs));
    return { id: `${inputs.organization}/${inputs.workspace}`, outs: await stateOf(inputs) };
  },
  async read(id, state, ctx) {
    if (!state) return undefined; // not importable: values live only in the stack's config
    const found = await inTransaction(ctx.connection, async (sql) => {
      const table = await tableStatus(sql, state.names);
      if (table === "absent") return undefined;
      if (table !== "ok") return { table, rows: new Map<string, string>() };
      await lockVerified(sql, state.names);
      const rows = await asRole(sql, state.names.owner, () => sql.query(`SELECT slug, key_id FROM ${qualified(sql, state.names)}`));
      return { table, rows: new Map<string, string>(rows.rows.map((r) => [r.slug, r.key_id])) };
    });
    if (!found) return undefined;
    // A row gone or sealed under another key shows as a change to that integration.
    const sealed = Object.fromEntries(Object.entries(state.sealed).filter(([slug]) => found.table !== "ok" || found.rows.get(slug) === state.keyId));
    const outs = { ...state, sealed, table: found.table };
    return { outs, inputs: { organization: state.organization, workspace: state.workspace, names: state.names } as never };
  },
  async update(_id, _olds, news, ctx) {
    await inTransaction(ctx.connection, (sql) => write(sql, news));
    return stateOf(news);
  },
  async delete(_id, state, ctx) {
    await inTransaction(ctx.connection, async (sql) => {
      if ((await tableStatus(sql, state.names)) === "absent") return;
      await lock(sql, `credentials:${state.names.schema}`);
      await lockVerified(sql, state.names);
      await asRole(sql, state.names.owner, () => sql.query(`DELETE FROM ${qualified(sql, state.names)} WHERE slug OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])`, [Object.keys(state.sealed)]));
    });
  },
};

async function stateOf(inputs: CredentialsInputs): Promise<CredentialsState> {
  return { organization: inputs.organization, workspace: inputs.workspace, names: inputs.names, keyId: await dataKeyId(inputs.key), sealed: await digests(inputs), table: "ok" };
}
