// The stack program: stacks/<stack>/tenancy.yaml -> validated model -> components.
// An invalid declaration stops here, before the engine has anything to apply.
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { Organization } from "./components/index.ts";
import { checkDeclarationFile } from "./policies/declaration.ts";

const stack = pulumi.getStack();
const config = new pulumi.Config("tenancy");
const file = config.get("declaration") ?? join("stacks", stack, "tenancy.yaml");

const report = await checkDeclarationFile(file);
if (!report.model) {
  const lines = report.violations.map((v) => `${v.file}:${v.line}:${v.column} ${v.rule} ${v.message}`);
  throw new pulumi.RunError(`${file} is not valid; nothing was changed:\n${lines.join("\n")}`);
}

const pg = new pulumi.Config("postgres");
const aws = config.getObject<{ enabled?: boolean }>("aws")?.enabled ?? false;
const masterKey = config.requireSecret("credentialsMasterKey");
const org = new Organization(report.model.organization!.slug, {
  model: report.model,
  postgres: {
    host: pg.get("host") ?? "127.0.0.1",
    port: pg.getNumber("port") ?? 5432,
    user: pg.get("user") ?? "postgres",
    password: pg.requireSecret("password"),
    database: pg.get("database") ?? "postgres",
  },
  aws,
  credentialsMasterKey: masterKey,
});

export const organization = org.slug;
/**
 * Per workspace: where its data lives and which role the SaaS connects as. The role's password
 * and the credentials data key are no outputs: the provider derives them from the master key and
 * keeps them to itself; the SaaS gets them from `tenancy credentials --stack <stack>`.
 */
export const workspaces = Object.fromEntries(org.workspaces.map((w) => [w.slug, {
  schema: w.schema,
  appRole: w.appRole,
  keyGeneration: w.keyGeneration,
}]));
