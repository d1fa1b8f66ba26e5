// What an admin transaction is waiting for, and who holds it (issue #16). A lock_timeout error
// names neither the lock nor its holder, and once the statement is cancelled the wait is gone
// from pg_locks; so while a transaction runs longer than SAMPLE_MS, one diagnostics connection
// per pool (outside it: a pool whose four connections all wait must still be watched) reads the
// transaction's ungranted lock and pg_blocking_pids every SAMPLE_MS. The last sample names the
// lock and its holders in the error line.
//
// Fail fast: a lock a non-admin session held past lock_timeout once is remembered (per process,
// with the holder's pid). A later wait of this process on that lock, still blocked by that pid,
// is cancelled at its first sample instead of sitting out lock_timeout again: the apply's other
// resources (a workspace's objects are touched by several) fail within a second each, with the
// same line, and do not hold the pool's connections one lock_timeout after another.
import pg from "pg";
import { escapeText } from "../../components/escape.ts";

/** How often a running transaction's wait is read. */
export const SAMPLE_MS = 500;

export interface Holder { readonly role: string | null; readonly pid: number; readonly app: string | null }
export interface Wait { readonly lock: string; readonly holders: readonly Holder[] }

/** "held by role "x" (pid 1, application "y")", escaped; a holder gone by the time we looked is said so. */
export function describeHolders(holders: readonly Holder[]): string {
  if (holders.length === 0) return "held by a session that has since let go";
  return `held by ${holders.map((h) => `role "${escapeText(h.role ?? "(unknown)")}" (pid ${h.pid}${h.app ? `, application "${escapeText(h.app)}"` : ""})`).join(", ")}`;
}

export const describeWait = (w: Wait) => `waiting for ${escapeText(w.lock)} ${describeHolders(w.holders)}`;

const WAIT = `SELECT CASE l.locktype
      WHEN 'relation' THEN 'a lock on ' || l.relation::pg_catalog.regclass::pg_catalog.text
      WHEN 'object' THEN 'a lock on ' || coalesce(pg_catalog.pg_describe_object(l.classid, l.objid, l.objsubid), l.classid::pg_catalog.regclass::pg_catalog.text || ' ' || l.objid)
      WHEN 'tuple' THEN 'a row lock in ' || l.relation::pg_catalog.regclass::pg_catalog.text
      WHEN 'transactionid' THEN 'a row another transaction changed or locked'
      WHEN 'advisory' THEN 'an advisory lock'
      ELSE 'a ' || l.locktype || ' lock' END || ' (' || l.mode || ')' AS lock,
    b.usename AS role, b.pid, b.application_name AS app
  FROM pg_catalog.pg_locks l CROSS JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(l.pid)) bp(pid)
    JOIN pg_catalog.pg_stat_activity b ON b.pid = bp.pid
  WHERE l.pid = $1 AND NOT l.granted ORDER BY b.pid`;

/** Locks found held past lock_timeout by a non-admin session: "lock|pid" -> the line that said so. */
const outlasted = new Map<string, string>();
const memoKey = (lock: string, pid: number) => `${lock}|${pid}`;

export interface Watch {
  /** The last wait seen (undefined: none seen). */
  readonly last: Wait | undefined;
  /** Set when the wait was cancelled because its lock already outlasted lock_timeout once. */
  readonly failedFast: string | undefined;
  stop(): Promise<void>;
}

/** Watches backend `pid` until stop(); `diagnostics` gives the pool's diagnostics client. */
export function watchWaits(pid: number | undefined, diagnostics: () => Promise<pg.Client>): Watch {
  let last: Wait | undefined;
  let failedFast: string | undefined;
  let busy = Promise.resolve();
  let stopped = false;
  const sample = async () => {
    if (stopped || pid === undefined || failedFast !== undefined) return;
    const client = await diagnostics();
    const rows = (await client.query<{ lock: string; role: string | null; pid: number; app: string | null }>(WAIT, [pid])).rows;
    if (rows.length === 0) return;
    last = { lock: rows[0]!.lock, holders: rows.map((r) => ({ role: r.role, pid: r.pid, app: r.app })) };
    const known = rows.map((r) => recallHeld(r.lock, r.pid)).find((m) => m !== undefined);
    if (known !== undefined && !stopped) {
      failedFast = known;
      await client.query("SELECT pg_catalog.pg_cancel_backend($1)", [pid]);
    }
  };
  const timer = setInterval(() => { busy = busy.then(sample).catch(() => {}); }, SAMPLE_MS);
  timer.unref();
  return {
    get last() { return last; },
    get failedFast() { return failedFast; },
    async stop() { stopped = true; clearInterval(timer); await busy; },
  };
}

/** Remembers that `wait` outlasted lock_timeout; holders that are the admin's own sessions (`admin`) serialise on purpose and are not remembered. */
export function rememberOutlasted(wait: Wait, admin: string, line: string): void {
  for (const h of wait.holders) if (h.role !== admin) rememberHeld(wait.lock, h.pid, line);
}

/** Remembers that session `pid` held `lock` past lock_timeout, with the line to fail a later wait on it with. */
export function rememberHeld(lock: string, pid: number, line: string): void {
  if (outlasted.size > 1000) outlasted.clear();
  outlasted.set(memoKey(lock, pid), line);
}

/** The line a wait on `lock` still held by `pid` fails with at once, if it outlasted lock_timeout before. */
export function recallHeld(lock: string, pid: number): string | undefined {
  return outlasted.get(memoKey(lock, pid));
}

const diagnosticsClients = new Map<string, Promise<pg.Client>>();

/** The diagnostics client of the pool keyed `key` (one connection, outside the pool; reopened when it broke). */
export function diagnosticsClient(key: string, config: pg.ClientConfig): () => Promise<pg.Client> {
  return () => {
    let client = diagnosticsClients.get(key);
    if (!client) {
      client = (async () => {
        const c = new pg.Client(config);
        c.on("error", () => { diagnosticsClients.delete(key); });
        await c.connect();
        // Not a reason for the provider process to stay alive.
        (c as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
        return c;
      })();
      client.catch(() => diagnosticsClients.delete(key));
      diagnosticsClients.set(key, client);
    }
    return client;
  };
}
