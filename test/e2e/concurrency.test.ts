// Real engine, one real PostgreSQL: applies that overlap. Two `up`s of one stack (the second is
// refused on the lock, as one line), two organizations' stacks applied at once against one
// server, and the SaaS writing `users` and invitation statuses while an apply runs. Assertions
// are on exit/errors and on rows and catalogs, never on resource type names.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, ensureDemoSecrets, openStack } from "../../cli/engine.ts";
import { engineStep } from "../../cli/engine-errors.ts";
import { ExitError } from "../../cli/errors.ts";
import { loadDeclaration } from "../../config/load.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const T = "tenancy_control";
const dev = readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8");
const agency = readFileSync(`${root}/stacks/agency/tenancy.yaml`, "utf8");

/** Planned operations other than `same`, from a preview. */
async function changesOf(stack: Stack): Promise<string[]> {
  const ops: string[] = [];
  await stack.preview({ onEvent: (e) => { const m = e.resourcePreEvent?.metadata; if (m && m.op !== "same") ops.push(`${m.op} ${m.urn}`); } });
  return ops;
}

describe("overlapping applies on the real engine", () => {
  let h: Harness;
  let other: { stack: Stack; dir: string };

  beforeAll(async () => {
    h = await createHarness("concurrency", dev);
    // A second organization's stack, with its own state, on the same server.
    const dir = await mkdtemp(join(tmpdir(), "tenancy-e2e-concurrency-agency-"));
    const file = join(dir, "tenancy.yaml");
    await writeFile(file, agency);
    const { stack } = await openStack({ root, stack: `e2e-concurrency-agency-${process.pid}`, backendUrl: `file://${dir}` });
    await configurePostgres(stack, h.server);
    await stack.setConfig("tenancy:declaration", { value: file });
    const loaded = loadDeclaration(agency, file);
    if (!loaded.ok || !loaded.model) throw new Error("agency must load");
    await ensureDemoSecrets(stack, loaded.model);
    other = { stack, dir };
  });
  afterAll(async () => {
    await other?.stack.workspace.removeStack(other.stack.name, { force: true }).catch(() => {});
    if (other) await rm(other.dir, { recursive: true, force: true });
    await h?.dispose();
  });

  const rowsOf = async (org: string) => ({
    workspaces: (await h.query(`SELECT slug FROM ${T}.workspaces WHERE organization_slug = $1 ORDER BY 1`, [org])).map((r) => r.slug),
    people: (await h.query(`SELECT count(*)::int AS n FROM ${T}.people WHERE organization_slug = $1`, [org]))[0]!.n,
    memberships: (await h.query(`SELECT workspace_slug || ' ' || email || ' ' || role AS m FROM ${T}.memberships WHERE organization_slug = $1 ORDER BY 1`, [org])).map((r) => r.m),
    schemas: (await h.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1", [`${org}\\_\\_%`])).map((r) => r.nspname),
    roles: (await h.query("SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1", [`${org}\\_\\_%`])).map((r) => r.rolname),
  });

  it("applies two organizations' stacks at once against one server, without interference", async () => {
    const [a, b] = await Promise.allSettled([h.stack.up(), other.stack.up()]);
    expect(a.status === "fulfilled" ? a.value.summary.result : String(a.reason)).toBe("succeeded");
    expect(b.status === "fulfilled" ? b.value.summary.result : String(b.reason)).toBe("succeeded");
    const acme = await rowsOf("acme");
    const northstar = await rowsOf("northstar");
    expect(acme.workspaces).toEqual(["emea-support", "internal", "us-sales"]);
    expect(acme.people).toBe(4);
    expect(acme.memberships).toHaveLength(7);
    expect(acme.schemas).toEqual(["acme__emea_support", "acme__internal", "acme__us_sales"]);
    expect(acme.roles).toHaveLength(3 * 3); // owner, app and read-only per workspace (naming.ts)
    const loaded = loadDeclaration(agency, "agency");
    const model = loaded.ok ? loaded.model! : undefined;
    expect(northstar.workspaces).toEqual(model!.workspaces.map((w) => w.slug).sort());
    expect(northstar.people).toBe(5);
    expect(northstar.memberships).toHaveLength(model!.workspaces.reduce((n, w) => n + w.members.length, 0));
    expect(northstar.schemas).toHaveLength(model!.workspaces.length);
    expect(northstar.roles).toHaveLength(model!.workspaces.length * 3);
    // The control-plane migrations ran once, whichever stack got there first.
    expect(await h.query(`SELECT version FROM ${T}.schema_migrations`)).toEqual([{ version: 1 }]);
    // and each second up changes nothing
    expect(await changesOf(h.stack)).toEqual([]);
    expect(await changesOf(other.stack)).toEqual([]);
    expect(await rowsOf("acme")).toEqual(acme);
    expect(await rowsOf("northstar")).toEqual(northstar);
  });

  it("lets one of two ups on one stack proceed and refuses the other on the lock, in one line", async () => {
    const before = await rowsOf("acme");
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const first = h.stack.up({ onOutput: () => started() });
    await running; // the first holds the stack's lock from here until it ends
    const second = engineStep("pulumi up", { secrets: [h.server.password], logDir: join(other.dir, "logs") }, () => h.stack.up())
      .then(() => undefined, (e: unknown) => e);
    const [one, two] = await Promise.all([first, second]);
    expect(one.summary.result).toBe("succeeded");
    expect(two).toBeInstanceOf(ExitError);
    const message = (two as ExitError).message;
    console.log(`second up: ${message}`);
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(/locked/);
    expect(message).not.toContain(h.server.password);
    // Nothing was disturbed, and the lock is gone.
    expect(await rowsOf("acme")).toEqual(before);
    expect(await changesOf(h.stack)).toEqual([]);
  });

  it("keeps the SaaS's users and invitation statuses written during an apply", async () => {
    await h.stack.up(); // the dev stack in place (a no-op after the tests above)
    const emails = Array.from({ length: 12 }, (_, i) => `new${i}@acme.test`);
    const changed = dev
      .replace("  people:\n", `  people:\n${emails.map((e) => `    - { email: ${e} }\n`).join("")}`)
      .replace("      - { email: chloe@acme.test, role: viewer }\n", `      - { email: chloe@acme.test, role: viewer }\n${emails.map((e) => `      - { email: ${e}, role: viewer }\n`).join("")}`);
    await h.writeDeclaration(changed);

    // The SaaS, meanwhile: activates accounts and moves invitations on, recording what it wrote.
    const written = new Map<string, string>();
    const users = new Set<string>();
    const statuses = ["accepted", "expired", "revoked"];
    let stop = false;
    let rounds = 0;
    // Half the new people activate during the apply (one every ~50 rounds); every invitation the
    // SaaS can see moves on at once, including those the apply has only just created.
    const saas = (async () => {
      while (!stop) {
        rounds++;
        const activating = emails[rounds / 25];
        if (rounds % 50 === 0 && activating) {
          await h.query(`INSERT INTO ${T}.users (email) VALUES ($1) ON CONFLICT DO NOTHING`, [activating]);
          users.add(activating);
        }
        const status = statuses[rounds % statuses.length]!;
        const updated = await h.query<{ workspace_slug: string; email: string }>(
          `UPDATE ${T}.invitations SET status = $1 WHERE organization_slug = 'acme' AND email = ANY($2) RETURNING workspace_slug, email`,
          [status, [...emails, "ben@acme.test", "dev@partner.test"]]);
        for (const r of updated) written.set(`${r.workspace_slug} ${r.email}`, status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const result = await h.stack.up().finally(() => { stop = true; });
    await saas;
    expect(result.summary.result).toBe("succeeded");
    console.log(`SaaS race: ${rounds} rounds of writes during the apply, ${written.size} invitation statuses, ${users.size} users`);
    expect(rounds).toBeGreaterThan(10);
    // The race did happen: invitations the apply created were moved on by the SaaS mid-apply.
    expect([...written.keys()].filter((k) => k.includes(" new")).length).toBeGreaterThan(0);

    const invitations = new Map((await h.query<{ k: string; status: string }>(
      `SELECT workspace_slug || ' ' || email AS k, status FROM ${T}.invitations WHERE organization_slug = 'acme'`)).map((r) => [r.k, r.status]));
    for (const [key, status] of written) expect(`${key} ${invitations.get(key)}`).toBe(`${key} ${status}`);
    expect((await h.query<{ email: string }>(`SELECT email FROM ${T}.users ORDER BY 1`)).map((r) => r.email)).toEqual([...users].sort());
    // Every declared member is a member; nobody is invited twice.
    const members = await rowsOf("acme");
    expect(members.memberships.filter((m) => m.startsWith("internal new"))).toHaveLength(emails.length);
    // A second up changes nothing, and still leaves the SaaS's statuses alone.
    expect(await changesOf(h.stack)).toEqual([]);
    await h.stack.up();
    const after = new Map((await h.query<{ k: string; status: string }>(
      `SELECT workspace_slug || ' ' || email AS k, status FROM ${T}.invitations WHERE organization_slug = 'acme'`)).map((r) => [r.k, r.status]));
    expect(after).toEqual(invitations);
  });
});
