// `tenancy demo [--stack dev] [--destroy]`, run by `npm run demo`: the toolchain, the embedded
// PostgreSQL and the real engine, end to end, on one stack's declaration.
import { access, readFile, writeFile } from "node:fs/promises";
import { dump, load } from "js-yaml";
import { join } from "node:path";
import type { UpResult } from "@pulumi/pulumi/automation/index.js";
import type { TenancyModel } from "../config/model.ts";
import { checkDeclarationFile } from "../policies/declaration.ts";
import { configurePostgres, ensureDemoSecrets, openStack } from "./engine.ts";
import { escapeText as t } from "../components/escape.ts";
import { engineStep, escapeLines, redact, type EngineErrorOptions } from "./engine-errors.ts";
import { Exit, ExitError } from "./errors.ts";
import { ensureAdminRole, ensureLocalPostgres, portOf, stopLocalPostgres, type LocalPostgres } from "./local/postgres.ts";

export interface DemoOptions {
  readonly stack: string;
  readonly destroy: boolean;
  /** Embedded PostgreSQL port; default TENANCY_PG_PORT or 54329. */
  readonly port?: number;
}

export type DemoResult =
  | { readonly action: "up"; readonly model: TenancyModel; readonly server: LocalPostgres; readonly changes: Record<string, number>; readonly toolchain: string }
  | { readonly action: "destroy"; readonly changes: Record<string, number>; readonly stopped: boolean };

export async function demo(options: DemoOptions, cwd: string, log: (line: string) => void): Promise<DemoResult> {
  const file = join(cwd, "stacks", options.stack, "tenancy.yaml");
  if (!(await access(file).then(() => true, () => false))) {
    throw new ExitError(`no stack "${t(options.stack)}": ${t(join("stacks", options.stack, "tenancy.yaml"))} does not exist`, Exit.Usage);
  }
  const portOption = options.port !== undefined ? { port: options.port } : {};
  // Engine failures become one redacted line; the full output goes to .tenancy/logs/.
  const secrets: string[] = process.env.PULUMI_CONFIG_PASSPHRASE ? [process.env.PULUMI_CONFIG_PASSPHRASE] : [];
  const errors: EngineErrorOptions = { secrets, logDir: join(cwd, ".tenancy", "logs"), cwd };
  // The engine's output quotes object names from the database: escaped line by line.
  const output = { onOutput: (out: string) => log(escapeLines(redact(out.trimEnd(), secrets))), color: "never" as const };
  if (options.destroy) {
    const { stack } = await engineStep("opening the stack", errors, () => openStack({ root: cwd, stack: options.stack, log, demo: true }));
    const server = await ensureLocalPostgres({ root: cwd, ...portOption, log });
    secrets.push(server.password);
    const admin = await ensureAdminRole(cwd, server);
    secrets.push(admin.password);
    await engineStep("configuring the stack", errors, () => configurePostgres(stack, admin));
    // Workspaces are protected until decommissioned (deleting one is permanent). Tearing down the
    // local demo is the one place the toolkit does both steps itself: apply a copy of the
    // declaration with every workspace decommissioned, then destroy.
    const teardown = join(cwd, ".tenancy", `${options.stack}-teardown.yaml`);
    await writeFile(teardown, decommissionAll(await readFile(file, "utf8")));
    await engineStep("configuring the stack", errors, () => stack.setConfig("tenancy:declaration", { value: teardown }));
    try {
      log(`decommissioning every workspace of ${t(options.stack)} (demo teardown), then pulumi destroy`);
      await engineStep("pulumi up (decommission)", errors, () => stack.up(output));
      const result = await engineStep("pulumi destroy", errors, () => stack.destroy(output));
      const stopped = await stopLocalPostgres({ root: cwd, ...portOption });
      return { action: "destroy", changes: result.summary.resourceChanges ?? {}, stopped };
    } finally {
      await stack.removeConfig("tenancy:declaration").catch(() => {});
    }
  }

  // An invalid declaration stops here: nothing is started, nothing reaches the engine.
  const report = await checkDeclarationFile(file);
  if (!report.model) {
    const lines = report.violations.map((v) => t(`${v.file}:${v.line}:${v.column} ${v.rule} ${v.message}`));
    throw new ExitError(`the ${t(options.stack)} declaration is not valid; nothing was changed:\n${lines.join("\n")}`, Exit.Violations);
  }
  portOf({ root: cwd, ...portOption }); // a bad TENANCY_PG_PORT fails before anything starts
  const { stack, toolchain } = await engineStep("opening the stack", errors, () => openStack({ root: cwd, stack: options.stack, log, demo: true }));
  const server = await ensureLocalPostgres({ root: cwd, ...portOption, log });
  secrets.push(server.password);
  // The toolkit runs as a CREATEROLE admin owning its database, never as the superuser.
  const admin = await ensureAdminRole(cwd, server);
  secrets.push(admin.password);
  await engineStep("configuring the stack", errors, () => configurePostgres(stack, admin));
  const demoSecrets = await engineStep("setting demo secrets", errors, () => ensureDemoSecrets(stack, report.model!));
  for (const key of demoSecrets) log(`demo: set secret config ${t(key)} (a placeholder; set your own with \`pulumi config set --secret ${t(key)}\`)`);
  // The Automation API's up skips the preview, and stack policies run at the end of a preview
  // (after the apply, in an up without one): preview with the pack first, so a violation stops
  // the demo before anything changes.
  const policyPacks = [join(cwd, "policies")];
  log(`pulumi preview --policy-pack policies (${t(options.stack)})`);
  await engineStep("pulumi preview", errors, () => stack.preview({ policyPacks, ...output }));
  log(`pulumi up --policy-pack policies (${t(options.stack)})`);
  const result: UpResult = await engineStep("pulumi up", errors, () => stack.up({ policyPacks, ...output }));
  return {
    action: "up", model: report.model, server: admin, changes: result.summary.resourceChanges ?? {},
    toolchain: `pulumi v${toolchain.pulumi}, language host: ${toolchain.languageHost}`,
  };
}

export function formatDemo(result: DemoResult): string {
  const changes = t(Object.entries(result.changes).map(([op, n]) => `${n} ${op}`).join(", ")) || "none";
  if (result.action === "destroy") {
    return `destroyed: ${changes}\nembedded PostgreSQL ${result.stopped ? "stopped" : "was not running"}\n`;
  }
  const org = result.model.organization!;
  const memberships = result.model.workspaces.reduce((n, ws) => n + ws.members.length, 0);
  const changed = Object.entries(result.changes).some(([op, n]) => op !== "same" && n > 0);
  const { server } = result;
  return [
    "",
    `organization  ${t(org.name)} (${t(org.slug)}), billing ${org.billing.mode}, membership ${org.membership}`,
    `workspaces    ${t(result.model.workspaces.map((w) => w.slug).join(", "))}`,
    `people        ${org.people.length} in the directory, ${memberships} memberships`,
    `resources     ${changes}${changed ? "" : " (no changes)"}`,
    `engine        ${result.toolchain}`,
    `postgres      ${t(server.host)}:${server.port}, data in ${t(server.dataDir)}${server.reused ? " (reused)" : ""}`,
    `connect       PGPASSWORD=$(node -p "require('./.tenancy/postgres/admin.json').password") psql -h ${t(server.host)} -p ${server.port} -U ${t(server.user)} ${t(server.database)}`,
    `app roles     one LOGIN role per workspace; passwords and credential keys: tenancy credentials --stack <stack> --show-secrets`,
    `tear down     npm run demo -- --destroy`,
    "",
  ].join("\n");
}

/** The declaration with `decommissioned: true` on every workspace. */
export function decommissionAll(text: string): string {
  const doc = load(text) as { workspaces?: Record<string, unknown>[] };
  for (const ws of doc.workspaces ?? []) ws.decommissioned = true;
  return dump(doc, { lineWidth: -1 });
}
