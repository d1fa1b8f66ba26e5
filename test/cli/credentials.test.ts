// `tenancy credentials`: what the SaaS connects with, derived from the stack's master key for the
// workspaces in the stack's outputs. The engine side (a real stack, real logins with what it
// prints) is test/e2e/attacks.test.ts and isolation-matrix.test.ts (they log in with it) and
// secret-canary.test.ts (what it prints without --show-secrets).
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { credentialsOf, formatCredentials } from "../../cli/credentials.ts";
import { ExitError } from "../../cli/errors.ts";
import { deriveAppPassword, deriveWorkspaceKey, generateDataKey } from "../../components/credentials-crypto.ts";

const master = await generateDataKey();
/** The two calls credentialsOf makes on a stack, answered as a stack applied by index.ts would. */
function stack(config: Record<string, string>, outputs: Record<string, unknown>): Stack {
  return {
    name: "dev",
    getAllConfig: async () => Object.fromEntries(Object.entries(config).map(([k, value]) => [k, { value }])),
    outputs: async () => Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value, secret: false }])),
  } as unknown as Stack;
}
const applied = {
  organization: "acme",
  workspaces: {
    "emea-support": { schema: "acme__emea_support", appRole: "acme__emea_support__app", keyGeneration: "1" },
    "us-sales": { schema: "acme__us_sales", appRole: "acme__us_sales__app", keyGeneration: "2" },
  },
};
const dev = stack({ "tenancy:credentialsMasterKey": master, "postgres:host": "db.internal", "postgres:port": "6432", "postgres:database": "tenancy" }, applied);

describe("tenancy credentials", () => {
  it("derives each workspace's password and key from the master key, with the generation it was applied with", async () => {
    const result = await credentialsOf(dev, { showSecrets: true });
    expect(result.organization).toBe("acme");
    expect(result.postgres).toEqual({ host: "db.internal", port: 6432, database: "tenancy" });
    expect(result.workspaces["emea-support"]).toEqual({
      schema: "acme__emea_support", appRole: "acme__emea_support__app", keyGeneration: "1",
      appPassword: await deriveAppPassword(master, "acme", "emea-support", "1"),
      credentialsKey: await deriveWorkspaceKey(master, "acme", "emea-support", "1"),
    });
    expect(result.workspaces["us-sales"]!.appPassword).toBe(await deriveAppPassword(master, "acme", "us-sales", "2"));
    expect(result.workspaces["us-sales"]!.appPassword).not.toBe(await deriveAppPassword(master, "acme", "us-sales", "1"));
    expect(JSON.stringify(result)).not.toContain(master);
  });

  it("shows no secret without --show-secrets", async () => {
    const shown = formatCredentials(await credentialsOf(dev, {}), "json");
    expect(shown).not.toContain(await deriveAppPassword(master, "acme", "emea-support"));
    expect(JSON.parse(shown).workspaces["emea-support"]).toMatchObject({ appPassword: "[secret]", credentialsKey: "[secret]" });
  });

  it("prints env lines per workspace, and only the workspaces asked for", async () => {
    const env = formatCredentials(await credentialsOf(dev, { workspace: ["us-sales"], showSecrets: true }), "env");
    expect(env.split("\n")).toEqual([
      "TENANCY_ORGANIZATION=acme", "PGHOST=db.internal", "PGPORT=6432", "PGDATABASE=tenancy",
      "TENANCY_US_SALES_SCHEMA=acme__us_sales", "TENANCY_US_SALES_APP_ROLE=acme__us_sales__app",
      `TENANCY_US_SALES_APP_PASSWORD=${await deriveAppPassword(master, "acme", "us-sales", "2")}`,
      `TENANCY_US_SALES_CREDENTIALS_KEY=${await deriveWorkspaceKey(master, "acme", "us-sales", "2")}`, "",
    ]);
  });

  it("refuses, in one line, an unknown workspace, a stack never applied, and a stack without a master key", async () => {
    await expect(credentialsOf(dev, { workspace: ["apac"] })).rejects.toThrow(new ExitError('stack "dev" has no workspace "apac"; it has emea-support, us-sales', 2));
    await expect(credentialsOf(stack({ "tenancy:credentialsMasterKey": master }, {}), {})).rejects.toThrow(/has no workspaces in its outputs: apply it first/);
    await expect(credentialsOf(stack({}, applied), {})).rejects.toThrow(/has no tenancy:credentialsMasterKey/);
  });
});
