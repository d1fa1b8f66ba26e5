// The toolkit as another repository gets it: `npm pack`, the tarball installed into a fresh
// Pulumi project outside this repository, a plain JavaScript program importing the package's
// exports, and `pulumi preview` of a small organization against a real embedded PostgreSQL.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, ensureDemoSecrets, openStack, type EngineStack } from "../../cli/engine.ts";
import { freePort } from "../../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres } from "../../cli/local/postgres.ts";
import { loadDeclaration } from "../../config/load.ts";
import { root } from "./harness.ts";

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string; dependencies: Record<string, string>;
};

const DECLARATION = `version: 1
organization:
  slug: consumer
  name: Consumer Co
  billing: { mode: rollup, plan: team, creditPool: { monthlyAllowance: 1000 } }
  roles:
    admin: [workspaces.manage, members.manage]
    viewer: []
  people:
    - { email: ana@consumer.test, orgRole: admin }
    - { email: ben@consumer.test }
workspaces:
  - slug: north
    name: North
    members: [{ email: ana@consumer.test, role: admin }, { email: ben@consumer.test, role: viewer }]
    integrations: [{ slug: slack, provider: slack, credentialsSecret: northSlackToken }]
  - slug: south
    name: South
    members: [{ email: ana@consumer.test, role: admin }]
`;

// A consumer's program: plain JavaScript, only the package's public exports.
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { Organization } from "tenancy-as-code";
import { checkDeclarationFile } from "tenancy-as-code/declaration";
import { rules } from "tenancy-as-code/rules";

const report = await checkDeclarationFile("tenancy.yaml");
if (!report.model) throw new pulumi.RunError(report.violations.map((v) => v.message).join("\\n"));
const pg = new pulumi.Config("postgres");
const org = new Organization(report.model.organization.slug, {
  model: report.model,
  postgres: { host: pg.require("host"), port: pg.requireNumber("port"), user: pg.require("user"), password: pg.requireSecret("password"), database: pg.require("database") },
  credentialsMasterKey: new pulumi.Config().requireSecret("credentialsMasterKey"),
});
export const workspaces = org.workspaces.map((w) => w.slug);
export const ruleCount = rules.length;
`;

/**
 * Pulumi.yaml of the consumer project. When the package ships the native provider plugin
 * (provider/pulumi-resource-tenancy), the engine finds it there, without network.
 */
function consumerProjectYaml(providerDir: string | undefined): string {
  return [
    "name: consumer",
    "runtime: nodejs",
    "main: index.js",
    ...(providerDir ? ["plugins:", "  providers:", "    - name: tenancy", `      path: ${providerDir}`] : []),
    "",
  ].join("\n");
}

describe("the npm package in another Pulumi project", () => {
  let dir: string;
  let project: string;
  let port: number;
  let engine: EngineStack;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tenancy-consumer-"));
    await chmod(dir, 0o755); // the embedded server's own folder inside stays private
    project = join(dir, "project");
    await mkdir(project);
    // dist/ is what `npm test` (and `npm ci`, through prepare) built. --ignore-scripts: a
    // `prepare` here would delete and rebuild dist/ while other test files run the CLI from it.
    expect(existsSync(join(root, "dist", "cli", "tenancy.js")), "run `npm run build` first").toBe(true);
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir, "--json"], { cwd: root, maxBuffer: 64 << 20 });
    const tarball = join(dir, (JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[])[0]!.filename);
    await writeFile(join(project, "package.json"), JSON.stringify({
      name: "consumer", private: true, type: "module",
      dependencies: { [pkg.name]: `file:${tarball}`, "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"] },
    }, null, 2));
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project, maxBuffer: 64 << 20 });
    const provider = join(project, "node_modules", pkg.name, "provider");
    const shipped = await stat(provider).then((s) => s.isDirectory(), () => false);
    await writeFile(join(project, "Pulumi.yaml"), consumerProjectYaml(shipped ? provider : undefined));
    await writeFile(join(project, "index.js"), PROGRAM);
    await writeFile(join(project, "tenancy.yaml"), DECLARATION);

    port = await freePort();
    const server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
    engine = await openStack({ root: project, stack: "consumer", backendUrl: `file://${dir}` });
    await configurePostgres(engine.stack, server);
    const loaded = loadDeclaration(DECLARATION, "tenancy.yaml");
    if (!loaded.ok || !loaded.model) throw new Error("the consumer declaration must load");
    await ensureDemoSecrets(engine.stack, loaded.model);
  });

  afterAll(async () => {
    await engine?.stack.workspace.removeStack("consumer", { force: true }).catch(() => {});
    if (port) await stopLocalPostgres({ root: dir, port });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("installs the bin and runs it from the package's compiled JavaScript", async () => {
    const bin = join(project, "node_modules", ".bin", "tenancy");
    const { stdout } = await run(bin, ["validate", "tenancy.yaml"], { cwd: project });
    expect(stdout).toBe("1 file valid\n");
    // Only JavaScript and declarations: no TypeScript loader needed at run time.
    const cli = await readdir(join(project, "node_modules", pkg.name, "dist", "cli"));
    expect(cli).toContain("tenancy.js");
    expect(cli).toContain("main.d.ts");
    expect(cli.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("previews the organization with the real engine", async () => {
    const planned: string[] = [];
    const result = await engine.stack.preview({
      onEvent: (event: EngineEvent) => {
        const step = event.resourcePreEvent?.metadata;
        if (step && step.op === "create") planned.push(`${step.type} ${step.urn.split("::").pop()}`);
      },
    });
    expect(result.changeSummary.create).toBeGreaterThan(0);
    expect(planned).toContain("tenancy:index:Organization consumer");
    expect(planned.filter((p) => p.startsWith("tenancy:index:Workspace ")).sort()).toEqual([
      "tenancy:index:Workspace consumer-north",
      "tenancy:index:Workspace consumer-south",
    ]);
    // Served by the package's own provider plugin (its compiled dist/provider), found through
    // the consumer's Pulumi.yaml; the integration's credentials come from its own secret config.
    expect(planned).toContain("pulumi:providers:tenancy consumer-provider");
    expect(planned).toContain("tenancy:postgres:WorkspaceBoundary consumer-north-boundary");
    expect(planned).toContain("tenancy:postgres:WorkspaceCredentials consumer-north-credentials");
  });
});
