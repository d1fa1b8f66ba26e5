import { describe, expect, it } from "vitest";
import { diffLogins } from "../../audit/diff-logins.ts";
import { loadDeclaration } from "../../config/load.ts";

const loaded = loadDeclaration(
  "version: 1\norganization:\n  slug: acme\n  name: Acme\n  billing: { mode: rollup }\n  roles: {}\nworkspaces:\n  - { slug: emea, name: EMEA }\n  - { slug: apac, name: APAC }\n",
  "t.yaml",
);
const model = loaded.ok ? loaded.model! : undefined!;

describe("app-role logins as the audit found them", () => {
  it("reports a refused derived password as app-password-drift of that workspace, and nothing for a login that worked", () => {
    const findings = diffLogins(model, [
      { workspace: "emea", appRole: "acme__emea__app", result: { login: "ok" } },
      { workspace: "apac", appRole: "acme__apac__app", result: { login: "refused" } },
    ]);
    expect(findings).toEqual([expect.objectContaining({ class: "changed", id: "app-password-drift", workspace: "apac", object: 'role "acme__apac__app"', path: ["workspaces", 1] })]);
    expect(findings[0]!.message).toMatch(/^the app role "acme__apac__app" of workspace "apac" must log in with the password the stack derives/);
  });

  it("reports a login it could not try as info with the server's reason, invisible characters shown", () => {
    const findings = diffLogins(model, [{ workspace: "emea", appRole: "acme__emea__app", result: { login: "unknown", reason: "too many connections for role \u001b[2J (SQLSTATE 53300)" } }]);
    expect(findings).toEqual([expect.objectContaining({ class: "info", id: "app-password-unchecked", workspace: "emea", path: ["workspaces", 0] })]);
    expect(findings[0]!.message).toBe('could not log in as "acme__emea__app" of workspace "emea" to check its password: too many connections for role \\u{1B}[2J (SQLSTATE 53300)');
  });
});
