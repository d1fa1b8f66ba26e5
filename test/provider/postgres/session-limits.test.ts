import { describe, expect, it } from "vitest";
import { connectionTimeoutMs, explainTimeout, SESSION_DEFAULTS, sessionLimits, sessionParameters } from "../../../provider/postgres/client.ts";
import { keyHeldLockTimeoutMs } from "../../../provider/postgres/decommission-sql.ts";
import { describeHolders } from "../../../provider/postgres/lock-waits.ts";
import { loginProbeEnabled } from "../../../provider/postgres/login-probe.ts";

describe("admin session limits", () => {
  it("bounds every admin session by default: lock, statement and idle-in-transaction timeouts", () => {
    expect(sessionLimits({})).toEqual({ lockTimeoutMs: 30_000, statementTimeoutMs: 120_000, idleInTransactionMs: 60_000 });
    const p = sessionParameters(SESSION_DEFAULTS);
    expect(p).toMatchObject({ lock_timeout: 30_000, statement_timeout: 120_000, idle_in_transaction_session_timeout: 60_000 });
    expect(p.options).toBe("-c search_path=pg_catalog,pg_temp");
  });

  it("takes each bound from its environment variable", () => {
    expect(sessionLimits({ TENANCY_PG_LOCK_TIMEOUT_MS: "2500", TENANCY_PG_STATEMENT_TIMEOUT_MS: "9000", TENANCY_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: "" }))
      .toEqual({ lockTimeoutMs: 2500, statementTimeoutMs: 9000, idleInTransactionMs: 60_000 });
  });

  it.each(["0", "-1", "1.5", "30s", "2147483648", " 10"])("refuses %j in one line naming the variable (0 would mean no bound)", (value) => {
    expect(() => sessionLimits({ TENANCY_PG_LOCK_TIMEOUT_MS: value })).toThrow(`TENANCY_PG_LOCK_TIMEOUT_MS must be a whole number of milliseconds from 1 to 2147483647 (0 would mean no limit); got ${JSON.stringify(value)}`);
  });

  it("says which bound a server-side timeout hit and how to change it", () => {
    const lock = Object.assign(new Error("canceling statement due to lock timeout"), { code: "55P03" });
    expect((explainTimeout(lock) as Error).message).toMatch(/lock timeout after \d+ ms \(lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS\).*nothing was applied$/);
    const statement = Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
    expect((explainTimeout(statement) as Error).message).toContain("(statement_timeout, TENANCY_PG_STATEMENT_TIMEOUT_MS)");
    const full = Object.assign(new Error("out of shared memory"), { code: "53200" });
    expect((explainTimeout(full) as Error).message).toMatch(/^out of shared memory: the server's lock table is full, .*FROM pg_locks JOIN pg_stat_activity.*; nothing was applied$/);
    const other = Object.assign(new Error("canceling statement due to user request"), { code: "57014" });
    expect(explainTimeout(other)).toBe(other);
  });

  it("names the lock a timed-out wait was for and its holders, escaped", () => {
    const lock = Object.assign(new Error("canceling statement due to lock timeout"), { code: "55P03" });
    const wait = { lock: "a lock on schema acme__e\u001b (AccessExclusiveLock)", holders: [{ role: "acme__e__app", pid: 42, app: "psql\r" }] };
    expect((explainTimeout(lock, wait) as Error).message).toBe(`canceling statement due to lock timeout after ${sessionLimits().lockTimeoutMs} ms (lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS): waiting for a lock on schema acme__e\\u{1B} (AccessExclusiveLock) held by role "acme__e__app" (pid 42, application "psql\\u{0D}"); nothing was applied: end that session (SELECT pg_terminate_backend(pid)) and apply again`);
    expect(describeHolders([])).toBe("held by a session that has since let go");
  });

  it("waits longer for a pooled connection than for any one lock, and under the database key much shorter", () => {
    for (const lockTimeoutMs of [1, 3_000, 5_000, 30_000, 600_000]) {
      const limits = { ...SESSION_DEFAULTS, lockTimeoutMs };
      expect(connectionTimeoutMs(limits)).toBeGreaterThanOrEqual(lockTimeoutMs + 10_000);
      expect(keyHeldLockTimeoutMs(limits)).toBeLessThanOrEqual(lockTimeoutMs);
    }
    expect(keyHeldLockTimeoutMs(SESSION_DEFAULTS)).toBe(5_000);
    expect(keyHeldLockTimeoutMs({ ...SESSION_DEFAULTS, lockTimeoutMs: 5_000 })).toBe(2_000);
  });
});

describe("the provider's login probe", () => {
  it("is on unless TENANCY_LOGIN_PROBE=off", () => {
    expect(loginProbeEnabled({})).toBe(true);
    expect(loginProbeEnabled({ TENANCY_LOGIN_PROBE: "on" })).toBe(true);
    expect(loginProbeEnabled({ TENANCY_LOGIN_PROBE: "off" })).toBe(false);
  });
});
