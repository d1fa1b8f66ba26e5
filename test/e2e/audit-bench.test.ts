// bench/audit.bench.ts's function on small sizes: the figures are real measurements, the query
// count does not grow with the tenancy, and the generated tenancy audits clean.
import { describe, expect, it } from "vitest";
import { benchAudit, formatFigures } from "../../bench/audit.bench.ts";

describe("the audit benchmark", () => {
  it("measures a growing tenancy with the same number of queries and no finding", async () => {
    const figures = await benchAudit([2, 20], 1);
    expect(figures.map((f) => f.workspaces)).toEqual([2, 20]);
    expect(figures.map((f) => f.queries)).toEqual([11, 11]);
    expect(figures.map((f) => f.findings)).toEqual([0, 0]);
    expect(figures[1]!.memberships).toBe(10 * figures[0]!.memberships);
    expect(figures[1]!.people).toBe(10 * figures[0]!.people);
    expect(figures[1]!.integrations).toBe(10 * figures[0]!.integrations);
    // Every role on the server is read (a fixed set of built-in roles too): the rows grow by at
    // least a schema, three roles, the credentials table and default privileges per workspace.
    expect(figures[1]!.catalogRows - figures[0]!.catalogRows).toBeGreaterThanOrEqual(8 * (20 - 2));
    expect(formatFigures(figures).split("\n")[0]).toMatch(/^workspaces\s+memberships/);
  });
});
