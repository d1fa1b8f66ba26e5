// Re-applying over a database that the dynamic-resource version of the toolkit provisioned: the
// provider plugin's boundary, records and credentials adopt what is there. Nothing is dropped or
// recreated (same catalog oids), the app's data stays, and a second up changes nothing.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, openStack } from "../../cli/engine.ts";
import { createHarness, root, type Harness } from "./harness.ts";

/** The last revision whose PostgreSQL and control-plane resources were Pulumi dynamic resources. */
const OLD_REVISION = "214523d";
const run = promisify(execFile);

describe("applying over a database the dynamic-resource toolkit provisioned", () => {
  let h: Harness;
  let old: Stack;
  let oldDir: string;
  const catalog = () => h.query<{ what: string; oid: string }>(`
    SELECT 'schema ' || nspname AS what, oid::text FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%'
    UNION ALL SELECT 'role ' || rolname, oid::text FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'
    UNION ALL SELECT 'table ' || relnamespace::regnamespace || '.' || relname, oid::text FROM pg_class WHERE relnamespace::regnamespace::text LIKE 'acme\\_\\_%' AND relkind = 'r'
    ORDER BY 1`);

  beforeAll(async () => {
    h = await createHarness("adopt-old", await readFile(join(root, "stacks/dev/tenancy.yaml"), "utf8"));
    oldDir = join(await mkdtemp(join(tmpdir(), "tenancy-old-")), "repo");
    await run("git", ["-C", root, "worktree", "add", "--detach", oldDir, OLD_REVISION]).catch((error: Error) => {
      throw new Error(`this test needs the repository's history (revision ${OLD_REVISION}): ${error.message}`);
    });
    await symlink(join(root, "node_modules"), join(oldDir, "node_modules"), "dir");
    await mkdir(join(oldDir, ".state"));
    ({ stack: old } = await openStack({ root: oldDir, stack: `e2e-old-${process.pid}`, backendUrl: `file://${join(oldDir, ".state")}` }));
    await configurePostgres(old, h.server);
    // The same stack secrets as the new stack's: the same master key and integration credentials,
    // the credentials where the old toolkit reads them (the project's namespace, not credentials:).
    const config = await h.stack.getAllConfig();
    await old.setAllConfig(Object.fromEntries(Object.entries(config).filter(([k]) => !k.startsWith("postgres:"))
      .map(([k, v]) => [k.replace(/^credentials:/, "tenancy:"), v])));
  });
  afterAll(async () => {
    await old?.workspace.removeStack(old.name, { force: true }).catch(() => {});
    await h?.dispose();
    if (oldDir) {
      await run("git", ["-C", root, "worktree", "remove", "--force", oldDir]).catch(() => {});
      await rm(join(oldDir, ".."), { recursive: true, force: true });
    }
  });

  it("adopts every schema, role, table and row, keeping the app's data", async () => {
    const first = await old.up();
    expect(first.summary.resourceChanges?.create).toBeGreaterThan(50); // the dynamic resources
    const appPassword = (first.outputs.workspaces!.value as Record<string, { appPassword: string }>)["emea-support"]!.appPassword;
    const app = new pg.Client({ host: h.server.host, port: h.server.port, database: h.server.database, user: "acme__emea_support__app", password: appPassword });
    await app.connect();
    await app.query("CREATE TABLE acme__emea_support.notes (body text); INSERT INTO acme__emea_support.notes VALUES ('kept across the move')");
    await app.end();
    const before = await catalog();
    const credentials = await h.query("SELECT slug, key_id FROM acme__emea_support.integration_credentials ORDER BY slug");
    expect(credentials).toHaveLength(1);

    // The new provider, with a fresh state over the same database.
    const steps: string[] = [];
    await h.stack.preview({ onEvent: (e) => { const m = e.resourcePreEvent?.metadata; if (m) steps.push(m.op); } });
    expect(steps.filter((op) => op !== "create" && op !== "same")).toEqual([]);
    const up = await h.stack.up();
    expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["create"]);

    // Everything that was there is still there with the same oid (nothing dropped and recreated);
    // what is new is the credentials table the boundary now makes in every workspace.
    const after = await catalog();
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after.filter((o) => !before.some((b) => b.what === o.what)).map((o) => o.what)).toEqual(["table acme__internal.integration_credentials"]);
    expect(await h.query("SELECT body FROM acme__emea_support.notes")).toEqual([{ body: "kept across the move" }]);
    expect(await h.query("SELECT slug, key_id FROM acme__emea_support.integration_credentials ORDER BY slug")).toEqual(credentials);
    expect(await h.query("SELECT count(*)::int AS n FROM tenancy_control.memberships WHERE organization_slug = 'acme'")).toEqual([{ n: 7 }]);
    expect(await h.plannedChanges()).toEqual([]);
  });
});
