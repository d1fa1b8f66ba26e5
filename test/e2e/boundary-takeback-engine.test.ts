// The boundary's take-back through the real engine: a crossing grant planted after `up` shows in
// the next preview with no declaration change, and the next `up` takes it back; one only a
// superuser can take back does not fail the run, and is listed in the boundary's state.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./harness.ts";
import { serverOf, type Server } from "./attack-harness.ts";

const declaration = `version: 1
organization:
  slug: acme
  name: Acme
  billing: { mode: rollup, plan: agency, creditPool: { monthlyAllowance: 1000 } }
  roles: { admin: [workspaces.manage, members.manage] }
  people:
    - { email: ana@acme.test, name: Ana, orgRole: admin }
workspaces:
  - slug: north
    name: North
    members: [{ email: ana@acme.test, role: admin }]
  - slug: south
    name: South
    members: [{ email: ana@acme.test, role: admin }]
`;

describe("the boundary's take-back on the real engine", () => {
  let h: Harness, server: Server;
  beforeAll(async () => {
    h = await createHarness("takeback", declaration);
    expect((await h.stack.up()).summary.result).toBe("succeeded");
    server = await serverOf(h);
  });
  afterAll(async () => { await server?.close(); await h?.dispose(); });

  const boundaryState = async (slug: string) => {
    const state = await h.stack.exportStack();
    const r = (state.deployment.resources as { type: string; urn: string; outputs: Record<string, unknown> }[])
      .find((x) => x.type === "tenancy:postgres:WorkspaceBoundary" && x.urn.endsWith(`acme-${slug}-boundary`));
    return r!.outputs;
  };

  it("previews an update for a procedure granted to PUBLIC with nothing declared changed, and up takes it back", async () => {
    await server.su.query("SET ROLE acme__north__app; CREATE PROCEDURE acme__north.p() LANGUAGE sql AS $$SELECT 1$$; GRANT EXECUTE ON PROCEDURE acme__north.p() TO PUBLIC; RESET ROLE");
    expect(await h.plannedChanges()).toEqual(["update tenancy:postgres:WorkspaceBoundary acme-north-boundary"]);
    expect((await h.stack.up()).summary.result).toBe("succeeded");
    expect((await server.su.query("SELECT has_function_privilege('acme__south__app', 'acme__north.p()', 'EXECUTE') AS x")).rows).toEqual([{ x: false }]);
    expect(await h.plannedChanges()).toEqual([]);
  });

  it("goes on past a membership only a superuser can take back, lists it, and previews nothing more for it", async () => {
    await server.su.query("GRANT acme__north__owner TO acme__south__ro");
    await server.su.query("SET ROLE acme__north__app; CREATE PROCEDURE acme__north.q() LANGUAGE sql AS $$SELECT 1$$; GRANT EXECUTE ON PROCEDURE acme__north.q() TO PUBLIC; RESET ROLE");
    let output = "";
    const up = await h.stack.up({ onOutput: (s) => { output += s; } });
    expect(up.summary.result).toBe("succeeded");
    expect((await boundaryState("north")).notTakenBack).toEqual([`${h.server.database}: has-member acme__north__owner acme__south__ro membership`]);
    expect((await server.su.query("SELECT has_function_privilege('acme__south__app', 'acme__north.q()', 'EXECUTE') AS x")).rows).toEqual([{ x: false }]);
    expect(output).toContain("could not take back a privilege crossing its boundary, " + `${h.server.database}: has-member acme__north__owner acme__south__ro membership`);
    expect(await h.plannedChanges()).toEqual([]);
    await server.su.query("REVOKE acme__north__owner FROM acme__south__ro");
  });
});
