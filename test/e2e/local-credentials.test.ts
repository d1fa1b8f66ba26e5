// Sealed integration credentials on the real engine and a real PostgreSQL: the row holds only
// ciphertext, only the workspace's app role can read it, the key from the stack's secret output
// opens it, and neither the plaintext nor the key shows up in state or in the engine's output.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, openStack } from "../../cli/engine.ts";
import { ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { credentialAad, generateDataKey, openCredential } from "../../components/credentials-crypto.ts";
import { workspaceNames } from "../../components/naming.ts";
import { freePort } from "../../cli/local/net.ts";

const project = join(import.meta.dirname, "fixtures", "local-credentials");
const names = workspaceNames("acme", "emea");
const table = `${names.schema}.integration_credentials`;
const FIRST = "xoxb-first-plaintext-8f1d2c7a9b";
const SECOND = "xoxb-second-plaintext-41c0e55d3f";
const GITHUB = "ghp_github-plaintext-7d9e1a0b2c";
const MASTER = await generateDataKey();
const APP_PASSWORD = "app-login-password";
const INTRUDER_PASSWORD = "intruder-login-password";
const slack = { slug: "slack", provider: "slack", credentialsSecret: "emeaSlackToken" };
const github = { slug: "github", provider: "github", credentialsSecret: "emeaGithubToken" };

interface Row { slug: string; provider: string; ciphertext: Buffer; nonce: Buffer; key_id: string }

/** Every file under a folder, as text (the state backend). */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, "latin1")))).join("\n");
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** A secret envelope: the state format's signature key (`4dabf…b298388d`) with the secret signature. */
const isSecret = (v: unknown) => typeof v === "object" && v !== null && Object.values(v).includes(SECRET_SIG) &&
  ("ciphertext" in v || "plaintext" in v);

/** Paths of strings holding any of `needles` outside a secret envelope. */
function inClear(node: unknown, needles: readonly string[], path = "$"): string[] {
  if (isSecret(node)) return [];
  if (typeof node === "string") return needles.some((n) => node.includes(n)) ? [path] : [];
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) => inClear(v, needles, `${path}.${k}`));
}

/** Top-level properties of a resource's inputs that are secrets. */
const secretsIn = (props: Record<string, unknown>) => Object.keys(props).filter((k) => isSecret(props[k])).sort();

describe("integration credentials sealed in PostgreSQL (real engine)", () => {
  let dir: string;
  let port: number;
  let server: LocalPostgres;
  let stack: Stack;
  let admin: pg.Client;
  /** What the engine printed, and every event it reported, across every operation. */
  let printed = "";
  let events = "";
  const record = {
    onOutput: (text: string) => { printed += text; },
    onEvent: (event: EngineEvent) => { events += `${JSON.stringify(event)}\n`; },
  };

  const login = async (user: string, password: string) => {
    const client = new pg.Client({ host: server.host, port: server.port, database: server.database, user, password });
    await client.connect();
    return client;
  };
  const rows = async (): Promise<Row[]> => (await admin.query<Row>(`SELECT slug, provider, ciphertext, nonce, key_id FROM ${table} ORDER BY slug`)).rows;
  const dataKey = async (): Promise<{ value: string; secret: boolean }> => (await stack.outputs()).dataKey as { value: string; secret: boolean };
  const credentialOps = async (): Promise<string[]> => {
    const ops: string[] = [];
    await stack.preview({
      diff: true,
      ...record,
      onEvent: (event) => {
        record.onEvent(event);
        const step = event.resourcePreEvent?.metadata;
        if (step && step.op !== "same") ops.push(`${step.op} ${step.urn.split("::").pop()}`);
      },
    });
    return ops.sort();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tenancy-e2e-credentials-"));
    await chmod(dir, 0o755); // the server's own folder inside stays private
    port = await freePort();
    server = await ensureLocalPostgres({ root: dir, port });
    admin = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
    await admin.connect();
    // A workspace boundary made by hand before the stack existed (the boundary adopts it), plus
    // an intruder (another workspace's LOGIN role) that can reach the schema and that default
    // privileges would hand SELECT on every new table: the boundary must take all of that back.
    await admin.query(`
      CREATE ROLE ${names.owner} NOLOGIN;
      CREATE ROLE ${names.app} LOGIN PASSWORD '${APP_PASSWORD}';
      CREATE ROLE ${names.readonly} NOLOGIN;
      CREATE ROLE acme__us__app LOGIN PASSWORD '${INTRUDER_PASSWORD}';
      CREATE SCHEMA ${names.schema} AUTHORIZATION ${names.owner};
      GRANT USAGE ON SCHEMA ${names.schema} TO ${names.app}, ${names.readonly}, acme__us__app;
      ALTER DEFAULT PRIVILEGES IN SCHEMA ${names.schema} GRANT SELECT ON TABLES TO acme__us__app, ${names.readonly};`);
    await mkdir(join(dir, "state"));
    ({ stack } = await openStack({ root: project, stack: `e2e-credentials-${process.pid}`, backendUrl: `file://${dir}/state` }));
    await configurePostgres(stack, server);
    await stack.setConfig("integrations", { value: JSON.stringify([slack]) });
    await stack.setConfig("tenancy:credentialsMasterKey", { value: MASTER, secret: true });
    await stack.setConfig("emeaSlackToken", { value: FIRST, secret: true });
    await stack.setConfig("emeaGithubToken", { value: GITHUB, secret: true });
  });

  afterAll(async () => {
    await admin?.end();
    await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => {});
    if (dir) {
      await stopLocalPostgres({ root: dir, port });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("seals the credential into the workspace's table on up: ciphertext only, under the exported key", async () => {
    const started = Date.now();
    const result = await stack.up(record);
    console.log(`up (create): ${Date.now() - started} ms`);
    expect(result.summary.result).toBe("succeeded");
    const [row, ...more] = await rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ slug: "slack", provider: "slack" });
    expect(row!.ciphertext.includes(Buffer.from(FIRST))).toBe(false);
    expect(row!.ciphertext.toString("latin1")).not.toContain("xoxb");
    const key = await dataKey();
    expect(key.secret).toBe(true);
    expect(row!.key_id).toBe((await stack.outputs()).keyId!.value);
    expect(await openCredential(key.value, row!, credentialAad(names.schema, "slack"))).toBe(FIRST);
  });

  it("lets the workspace's app role read the row and open it with the key", async () => {
    const app = await login(names.app, (await stack.outputs()).appPassword!.value as string);
    try {
      const { rows: [row] } = await app.query<Row>(`SELECT ciphertext, nonce FROM ${table} WHERE slug = 'slack'`);
      expect(await openCredential((await dataKey()).value, row!, credentialAad(names.schema, "slack"))).toBe(FIRST);
      await expect(app.query(`UPDATE ${table} SET provider = 'x'`)).rejects.toMatchObject({ code: "42501" });
    } finally {
      await app.end();
    }
  });

  it("refuses SELECT to another workspace's LOGIN role and to the read-only role, despite default privileges", async () => {
    const intruder = await login("acme__us__app", INTRUDER_PASSWORD);
    try {
      await expect(intruder.query(`SELECT * FROM ${table}`)).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/permission denied/) });
    } finally {
      await intruder.end();
    }
    await admin.query(`SET ROLE ${names.readonly}`);
    await expect(admin.query(`SELECT * FROM ${table}`)).rejects.toMatchObject({ code: "42501" });
    await admin.query("RESET ROLE");
    const acl = await admin.query<{ acl: string }>(`SELECT relacl::text AS acl FROM pg_class WHERE oid = $1::regclass`, [table]);
    expect(acl.rows[0]!.acl).toBe(`{${names.owner}=arwdDxtm/${names.owner},${names.app}=r/${names.owner}}`);
  });

  it("keeps the plaintext and the keys out of the state files and the engine's output and events, and secret in the export", async () => {
    const key = (await dataKey()).value;
    const files = await allText(join(dir, "state"));
    for (const [where, text] of [["state files", files], ["printed output", printed], ["engine events", events]] as const) {
      expect(text.length, where).toBeGreaterThan(100);
      expect(text.includes(FIRST), `plaintext in ${where}`).toBe(false);
      expect(text.includes(key), `data key in ${where}`).toBe(false);
      expect(text.includes(MASTER), `master key in ${where}`).toBe(false);
      expect(text.includes(server.password), `database password in ${where}`).toBe(false);
    }
    // The Automation API exports with --show-secrets, so secrets come back decrypted there: the
    // plaintext and the key may appear only inside secret envelopes.
    const deployment = (await stack.exportStack()).deployment;
    expect(inClear(deployment, [FIRST, key, MASTER, server.password])).toEqual([]);
    const credential = deployment.resources.find((r: { type: string }) => r.type === "tenancy:postgres:WorkspaceCredentials");
    // Outputs: key id and keyed digests, never a value, a key or a connection.
    expect(Object.keys(credential.outputs).sort()).toEqual(["keyGeneration", "keyId", "names", "organization", "sealed", "table", "workspace"]);
    // Inputs: the generation, not the key; the value sealed in Check, so not even the decrypted
    // export holds it (the engine keeps, and sends back on later runs, ciphertext only).
    expect(credential.inputs.keyGeneration).toBe("1");
    expect(secretsIn(credential.inputs)).toEqual([]);
    expect(secretsIn(credential.inputs.integrations.slack)).toEqual(["sealed"]);
    expect(JSON.stringify(deployment)).not.toContain(FIRST);
    const provider = deployment.resources.find((r: { type: string }) => r.type === "pulumi:providers:tenancy");
    expect(secretsIn(provider.inputs).sort()).toEqual(["credentialsMasterKey", "password"]);
  });

  it("previews a changed secret as an update (not a replace) and up re-seals the row", async () => {
    const before = (await rows())[0]!;
    await stack.setConfig("emeaSlackToken", { value: SECOND, secret: true });
    expect(await credentialOps()).toEqual(["update acme-emea-credentials"]);
    const started = Date.now();
    await stack.up(record);
    console.log(`up (update): ${Date.now() - started} ms`);
    const after = (await rows())[0]!;
    expect(after.ciphertext.equals(before.ciphertext)).toBe(false);
    expect(after.nonce.equals(before.nonce)).toBe(false);
    expect(await openCredential((await dataKey()).value, after, credentialAad(names.schema, "slack"))).toBe(SECOND);
    expect(printed.includes(SECOND) || events.includes(SECOND)).toBe(false);
    expect(await credentialOps()).toEqual([]);
  });

  it("adopts a row that is already there when an integration is added", async () => {
    await admin.query(`INSERT INTO ${table} (slug, provider, ciphertext, nonce, key_id) VALUES ('github', 'stale', '\\x00', '\\x000000000000000000000000', 'old')`);
    await stack.setConfig("integrations", { value: JSON.stringify([slack, github]) });
    await stack.up(record);
    const row = (await rows()).find((r) => r.slug === "github")!;
    expect(row.provider).toBe("github");
    expect(await openCredential((await dataKey()).value, row, credentialAad(names.schema, "github"))).toBe(GITHUB);
  });

  it("re-seals every row in place under the new key when the workspace's key is rotated", async () => {
    const before = await rows();
    const oldKey = (await dataKey()).value;
    await stack.setConfig("keyGeneration", { value: "2" });
    expect(await credentialOps()).toEqual(["update acme-emea-credentials"]);
    await stack.up(record);
    const key = await dataKey();
    expect(key.value).not.toBe(oldKey);
    const after = await rows();
    expect(new Set(after.map((r) => r.key_id))).toEqual(new Set([(await stack.outputs()).keyId!.value]));
    expect(after[0]!.key_id).not.toBe(before[0]!.key_id);
    for (const [row, plaintext] of [[after[0]!, GITHUB], [after[1]!, SECOND]] as const) {
      expect(await openCredential(key.value, row, credentialAad(names.schema, row.slug))).toBe(plaintext);
      await expect(openCredential(oldKey, row, credentialAad(names.schema, row.slug))).rejects.toThrow(/failed authentication/);
    }
  });

  it("refreshes without finding drift, and previews nothing after", async () => {
    const result = await stack.refresh(record);
    expect(result.summary.resourceChanges).not.toHaveProperty("update");
    expect(await credentialOps()).toEqual([]);
  });

  it("removes the rows, and with the boundary the schema and its table, on destroy", async () => {
    const started = Date.now();
    await stack.destroy(record);
    console.log(`destroy: ${Date.now() - started} ms`);
    const left = await admin.query("SELECT to_regclass($1) AS t", [table]);
    expect(left.rows[0]!.t).toBeNull();
    const everything = printed + events;
    expect(everything.includes(FIRST) || everything.includes(SECOND) || everything.includes(GITHUB)).toBe(false);
  });
});
