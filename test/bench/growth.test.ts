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
