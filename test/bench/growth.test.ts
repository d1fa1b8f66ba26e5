import { describe, expect, it } from "vitest";
import { allowedGrowth } from "../../bench/preview.bench.ts";

describe("allowedGrowth: the ≤ ×12 per ×10 target at other size ratios", () => {
  it("allows ×12 for ×10 and compounds over steps", () => {
    expect(allowedGrowth(10)).toBeCloseTo(12, 10);
    expect(allowedGrowth(100)).toBeCloseTo(144, 8);
    expect(allowedGrowth(3) * allowedGrowth(10 / 3)).toBeCloseTo(12, 10);
  });

  it("lets linear growth pass and quadratic growth miss at ×3", () => {
    expect(allowedGrowth(3)).toBeGreaterThan(3);
    expect(allowedGrowth(3)).toBeLessThan(3.6);
    expect(9).toBeGreaterThan(allowedGrowth(3));
  });
});

describe("roleRows: the roles bench's growth rows", () => {
  it("turns a cost per workspace that grows with the workspaces into the first apply's quadratic growth", async () => {
    const { roleRows } = await import("../../bench/roles.bench.ts");
    const rows = roleRows([
      { workspaces: 0, rolesHeld: 0, msPerWorkspace: 2 },
      { workspaces: 1000, rolesHeld: 3000, msPerWorkspace: 20 },
      { workspaces: 3000, rolesHeld: 9000, msPerWorkspace: 60 },
    ]);
    expect(rows).toHaveLength(4);
    const growth = rows[3]!;
    expect(growth.measure).toContain("1,000 → 3,000 workspaces (×3)");
    expect(growth.figure).toBe("×3.00");
    expect(growth.note).toContain("grow ×8.45 for ×3 workspaces");
    expect(growth.note).toContain("allows ×3.27");
    expect(rows[0]!.note).not.toContain("first apply");
    expect(rows[2]!.note).toContain("a first apply of 3,000 workspaces spends ≈ 93.0 s on them");
  });
});
