// tenancy:postgres:WorkspaceCredentials — a workspace's integration credentials, sealed
// (AES-256-GCM, components/credentials-crypto.ts) into its `integration_credentials` table, which
// the boundary creates. The rows are written as the workspace's owner role, after the table was
// locked and checked to be the toolkit's plain table (provider/postgres/credentials-table.ts): a
// trigger, rule or policy a workspace planted is refused, never run. State keeps each credential's
// key id and a keyed digest, never a value or a key.
//
// The scheme (the embedded default; with AWS, KMS and Secrets Manager play these parts):
// - What is encrypted: each integration's credential (the value of the Pulumi secret config key
//   its `credentialsSecret` names). Slug, provider and key id are stored in clear.
// - With what: AES-256-GCM (components/credentials-crypto.ts) under the workspace's own 32-byte
//   data key, a 96-bit nonce fresh for every sealing (synthetic from the engine's seed, see
//   prepare and sealCredential), and the row's identity
//   (`tenancy-as-code/integration-credential/v1/<schema>/<slug>`) as authenticated data, so a
//   ciphertext moved to another row or workspace fails to open. Encryption happens in the
//   provider plugin's process; PostgreSQL only ever sees ciphertext.
// - Where: `<workspace schema>.integration_credentials` (slug, provider, ciphertext = GCM
//   ciphertext || 16-byte tag, nonce, key_id, updated_at), created with the workspace's boundary,
//   owned by its owner role, and dropped with its schema.
// - Where the keys live: one master key per stack, a Pulumi secret config value (encrypted by the
//   stack's secrets provider), given to this provider as its configuration. Each workspace's
//   data key is derived from it with HKDF-SHA256 over organization/workspace/generation, here in
//   the plugin (provider/keys.ts), and never leaves it: the resource's inputs hold only the
//   generation. The SaaS runtime gets its own workspaces' keys from `tenancy credentials`, never
//   the master. No key is ever in PostgreSQL, so a dump or a database superuser sees ciphertext only.
//   Why not a key in the program, passed as a secret input or output: at -v=9 the engine prints
//   every property it marshals, secrets included, masking only the stack's config secrets
//   (which the integration values and the master key are), so a derived key would be printed.
// - Who can read what: the table is owned by the workspace's NOLOGIN owner role; the only other
//   privilege on it is SELECT for the workspace's app role (any other grant, e.g. from default
//   privileges, is revoked by every converge of the boundary), so no other workspace's role, the read-only role or
//   PUBLIC can read even the ciphertext. The app role decrypts with its workspace's key.
// - What Pulumi keeps: no plaintext and no key. The program sends each value (a config secret,
//   which the engine masks in its logs); Check seals it at once (prepare below), so the inputs the
//   engine stores, and sends back as "olds" on every later run, hold ciphertext and a keyed
//   digest (HMAC under the data key) only; the outputs hold the key's id and the digests, so a
//   diff can tell a changed value without keeping it.
import { credentialAad, credentialDigest, dataKeyId, sealCredential } from "../../components/credentials-crypto.ts";
import { workspaceNames } from "../../components/naming.ts";
import { asRole, inTransaction, type Sql } from "../postgres/client.ts";
import { lock } from "../postgres/locks.ts";
import { assertDroppable } from "../postgres/decommission-sql.ts";
import { lockVerified, qualified, tableStatus, type TableNames } from "../postgres/credentials-table.ts";
import { dataKeyOf, GENERATION } from "../keys.ts";
import { secret, UNKNOWN, type CheckContext, type DiffKind, type Failure, type Keys, type ResourceKind } from "../server.ts";
import { canonical, identifierFailures, mapDiff } from "./common.ts";

export const WORKSPACE_CREDENTIALS = "tenancy:postgres:WorkspaceCredentials";

export interface CredentialsInputs {
  readonly organization: string;
  readonly workspace: string;
  readonly names: TableNames;
  /** Which data key: the provider derives it from the master key (provider/keys.ts). "1"; bump to rotate. */
  readonly keyGeneration: string;
  /**
   * By integration slug. The program sends `value` (a secret); Check seals it (prepare), so what
   * the engine keeps, and sends back on later runs, is `sealed`, never the value.
   */
  readonly integrations: Readonly<Record<string, IntegrationInput>>;
}

export interface IntegrationInput {
  readonly provider: string;
  readonly value?: string;
  readonly sealed?: SealedInput;
}

/** A credential sealed in Check: the row to write (base64), and its keyed digest for diffs. */
export interface SealedInput {
  readonly ciphertext: string;
  readonly nonce: string;
  readonly keyId: string;
  readonly digest: string;
}

export interface CredentialsState {
  readonly organization: string;
  readonly workspace: string;
  readonly names: TableNames;
  readonly keyGeneration: string;
  readonly keyId: string;
  /** By slug: provider and a keyed digest of the sealed value. */
  readonly sealed: Readonly<Record<string, { readonly provider: string; readonly digest: string }>>;
  /** "ok", or what is wrong with the table (refresh). */
  readonly table: string;
}

const SLUG = /^[a-z][a-z0-9-]{0,62}$/;

const scope = (i: CredentialsInputs) => ({ organization: i.organization, workspace: i.workspace, generation: i.keyGeneration });

async function digests(inputs: CredentialsInputs, key: string): Promise<CredentialsState["sealed"]> {
  const out: Record<string, { provider: string; digest: string }> = {};
  for (const [slug, i] of Object.entries(inputs.integrations)) {
    out[slug] = { provider: i.provider, digest: i.sealed?.digest ?? await credentialDigest(key, i.value!, credentialAad(inputs.names.schema, slug)) };
  }
  return out;
}

/** The row for one integration: as sealed in Check, or sealed now (a kind called directly). */
async function rowOf(key: string, keyId: string, schema: string, slug: string, i: IntegrationInput) {
  if (!i.sealed) return sealCredential(key, i.value!, credentialAad(schema, slug));
  if (i.sealed.keyId !== keyId) throw new Error(`integration "${slug}" of ${schema} was sealed under another data key than the one this run derives; run again`);
  return { ciphertext: Buffer.from(i.sealed.ciphertext, "base64"), nonce: Buffer.from(i.sealed.nonce, "base64"), keyId };
}

const pending = (i: IntegrationInput) => i.sealed === undefined && i.value === UNKNOWN;

async function write(sql: Sql, inputs: CredentialsInputs, key: string): Promise<void> {
  const n = inputs.names;
  await lock(sql, `credentials:${n.schema}`);
  await lockVerified(sql, n);
  const rows: { slug: string; provider: string; ciphertext: Buffer; nonce: Buffer; keyId: string }[] = [];
  const keyId = await dataKeyId(key);
  for (const [slug, i] of Object.entries(inputs.integrations)) rows.push({ slug, provider: i.provider, ...(await rowOf(key, keyId, n.schema, slug, i)) });
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
    if (news.keyGeneration !== UNKNOWN && (typeof news.keyGeneration !== "string" || !GENERATION.test(news.keyGeneration))) {
      failures.push({ property: "keyGeneration", reason: `a key generation is 1 to 32 lowercase letters, digits or dashes ("1", "2", "2026-12"); got ${JSON.stringify(news.keyGeneration)}` });
    }
    for (const [slug, i] of Object.entries(news.integrations ?? {})) {
      if (!SLUG.test(slug)) failures.push({ property: "integrations", reason: `invalid integration slug ${JSON.stringify(slug)}` });
      // Never quote the value or the key: only say what is wrong with them.
      if (i.sealed === undefined && i.value !== UNKNOWN && (typeof i.value !== "string" || i.value.length === 0)) failures.push({ property: `integrations.${slug}`, reason: "the credential is empty" });
    }
    return failures;
  },
  // Sealed here, in Check, so that the engine keeps only ciphertext: a rotated-out credential
  // would otherwise stay in state in clear, and come back in every later run's -v=9 trace
  // ("olds", "oldInputs"), where the engine no longer masks it (it masks config secrets only).
  // The sealed value must be the same in `preview --save-plan` and in `up --plan`, or the engine
  // refuses the reviewed plan ("violates plan: ~~integrations"): an unchanged value (same keyed
  // digest under the same key) keeps the sealed value the engine stored last time, so state and
  // row change only when the value or the key does; a new or changed value is sealed under a
  // synthetic nonce from the engine's seed for this resource, which a saved plan pins.
  async prepare(news: CredentialsInputs, keys: Keys, check?: CheckContext) {
    const values = Object.values(news.integrations ?? {});
    const integrations: Record<string, unknown> = {};
    if (keys.masterKey === undefined || news.keyGeneration === UNKNOWN || values.some(pending)) {
      // A preview that does not know everything yet: nothing it returns is stored.
      for (const [slug, i] of Object.entries(news.integrations ?? {})) integrations[slug] = { provider: i.provider, value: i.value === UNKNOWN ? UNKNOWN : secret(i.value) };
    } else {
      const key = await dataKeyOf(keys, scope(news));
      const keyId = await dataKeyId(key);
      const olds = (check?.olds as Partial<CredentialsInputs> | undefined)?.integrations ?? {};
      const sameTable = (check?.olds as Partial<CredentialsInputs> | undefined)?.names?.schema === news.names.schema;
      for (const [slug, i] of Object.entries(news.integrations ?? {})) {
        const aad = credentialAad(news.names.schema, slug);
        const digest = await credentialDigest(key, i.value!, aad);
        const old = sameTable ? olds[slug]?.sealed : undefined;
        const kept = old !== undefined && old.keyId === keyId && old.digest === digest && typeof old.ciphertext === "string" && typeof old.nonce === "string";
        const sealed: SealedInput = kept ? old : await sealCredential(key, i.value!, aad, check?.seed).then((s) => ({ ciphertext: s.ciphertext.toString("base64"), nonce: s.nonce.toString("base64"), keyId, digest }));
        integrations[slug] = { provider: i.provider, sealed: secret({ ciphertext: sealed.ciphertext, nonce: sealed.nonce, keyId: sealed.keyId, digest: sealed.digest }) };
      }
    }
    return { ...news, integrations };
  },
  async diff(olds, news, keys = { masterKey: undefined }) {
    const replaces = ["organization", "workspace"].filter((k) => (olds as never)[k] !== (news as never)[k]);
    const detailedDiff: Record<string, DiffKind> = Object.fromEntries(replaces.map((k) => [k, "update-replace" as DiffKind]));
    // Other names are another table: the rows are written there and removed from the old one.
    // Only the names the table is known by count (a state written with more names is the same table).
    const table = (n: TableNames | undefined) => canonical({ schema: n?.schema, owner: n?.owner, app: n?.app });
    if (table(olds.names) !== table(news.names)) { detailedDiff.names = "update-replace"; replaces.push("names"); }
    // Values are compared by keyed digest; an unknown key or value (rotation in the same run) is a change.
    const unknown = keys.masterKey === undefined || news.keyGeneration === UNKNOWN || Object.values(news.integrations ?? {}).some(pending);
    const key = unknown ? undefined : await dataKeyOf(keys, scope(news));
    const expected = key === undefined ? undefined : await digests(news, key);
    if (key === undefined) detailedDiff.integrations = "update";
    else {
      if ((await dataKeyId(key)) !== olds.keyId) detailedDiff.key = "update";
      Object.assign(detailedDiff, mapDiff("integrations", olds.sealed, expected));
    }
    if (olds.table !== "ok") detailedDiff.table = "update";
    return { replaces, detailedDiff };
  },
  async create(inputs, ctx) {
    const key = await dataKeyOf(ctx, scope(inputs));
    await inTransaction(ctx.connection, (sql) => write(sql, inputs, key));
    return { id: `${inputs.organization}/${inputs.workspace}`, outs: await stateOf(inputs, key) };
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
    return { outs, inputs: { organization: state.organization, workspace: state.workspace, names: state.names, keyGeneration: state.keyGeneration } as never };
  },
  async update(_id, _olds, news, ctx) {
    const key = await dataKeyOf(ctx, scope(news));
    await inTransaction(ctx.connection, (sql) => write(sql, news, key));
    return stateOf(news, key);
  },
  async delete(_id, state, ctx) {
    // Deleted before its boundary: if the boundary's roles could not be dropped, nothing goes.
    await assertDroppable(ctx.connection, { ...workspaceNames(state.organization, state.workspace), ...state.names }, "the credentials");
    await inTransaction(ctx.connection, async (sql) => {
      if ((await tableStatus(sql, state.names)) === "absent") return;
      await lock(sql, `credentials:${state.names.schema}`);
      await lockVerified(sql, state.names);
      await asRole(sql, state.names.owner, () => sql.query(`DELETE FROM ${qualified(sql, state.names)} WHERE slug OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])`, [Object.keys(state.sealed)]));
    });
  },
};

async function stateOf(inputs: CredentialsInputs, key: string): Promise<CredentialsState> {
  return { organization: inputs.organization, workspace: inputs.workspace, names: inputs.names, keyGeneration: inputs.keyGeneration, keyId: await dataKeyId(key), sealed: await digests(inputs, key), table: "ok" };
}
