// Shared by the attack and isolation-matrix e2e files: the superuser's view of a harness's
// server (to read catalogs no role can hide from, and the server log the canary writes to),
// real logins as the workspaces' roles, and generated declarations.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import pg from "pg";
import { stringify } from "yaml";
import type { Harness } from "./harness.ts";
import { credentialsOf } from "../../cli/credentials.ts";

export interface Server {
  readonly su: pg.Client;
  readonly logFile: string;
  /** A new client logged in as `user`, closed by `close()`. */
  login(user: string, password: string): Promise<pg.Client>;
  close(): Promise<void>;
}

/** The harness's server as its superuser (credentials the embedded server keeps in its folder). */
export async function serverOf(h: Harness): Promise<Server> {
  const base = join(dirname(h.declaration), ".tenancy", "postgres");
  const { user, password } = JSON.parse(await readFile(join(base, "superuser.json"), "utf8")) as { user: string; password: string };
  const clients: pg.Client[] = [];
  const login = async (u: string, p: string) => {
    const c = new pg.Client({ host: h.server.host, port: h.server.port, user: u, password: p, database: h.server.database });
    c.on("notice", () => {});
    c.on("error", () => {});
    await c.connect();
    clients.push(c);
    return c;
  };
  const su = await login(user, password);
  return {
    su, logFile: join(base, "log", "server.log"), login,
    async close() { await Promise.all(clients.map((c) => c.end().catch(() => {}))); },
  };
}

/** Runs `sql` in a transaction that is always rolled back; the error's SQLSTATE, or "ok". */
export async function attempt(c: pg.Client, sql: string): Promise<string> {
  await c.query("BEGIN");
  try {
    await c.query(sql);
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await c.query("ROLLBACK");
  }
}

export interface DeclarationOptions {
  readonly org?: string;
  readonly workspaces: readonly string[];
  /** Integrations by workspace slug: [slug, provider, secret name]. */
  readonly integrations?: Readonly<Record<string, readonly [string, string, string][]>>;
  readonly decommissioned?: readonly string[];
  /** Extra members by workspace slug (email -> role). */
  readonly members?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A valid declaration (start: stacks/dev): ana is every workspace's admin. */
export function declaration(o: DeclarationOptions): string {
  const doc = {
    version: 1,
    organization: {
      slug: o.org ?? "acme", name: "Acme Agency",
      billing: { mode: "rollup", plan: "agency", creditPool: { monthlyAllowance: 100000 } },
      membership: "multi-workspace",
      roles: { admin: ["workspaces.manage", "members.manage", "integrations.manage", "agents.manage", "billing.view"], editor: ["agents.manage"], viewer: [] },
      people: [
        { email: "ana@acme.test", name: "Ana Ruiz", orgRole: "admin" },
        { email: "ben@acme.test", name: "Ben Okafor" },
        { email: "chloe@acme.test", name: "Chloe Martin" },
      ],
    },
    workspaces: o.workspaces.map((slug) => ({
      slug, name: `Workspace ${slug}`,
      members: Object.entries({ "ana@acme.test": "admin", ...(o.members?.[slug] ?? {}) }).map(([email, role]) => ({ email, role })),
      integrations: (o.integrations?.[slug] ?? []).map(([s, provider, credentialsSecret]) => ({ slug: s, provider, credentialsSecret })),
      ...(o.decommissioned?.includes(slug) ? { decommissioned: true } : {}),
    })),
  };
  return stringify(doc);
}

/** Every workspace's app password, as `tenancy credentials --show-secrets` gives it to the SaaS. */
export async function appPasswords(h: Harness): Promise<Record<string, string>> {
  const { workspaces } = await credentialsOf(h.stack, { showSecrets: true });
  return Object.fromEntries(Object.entries(workspaces).map(([slug, w]) => [slug, w.appPassword]));
}
