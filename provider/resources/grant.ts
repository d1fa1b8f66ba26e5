// tenancy:postgres:Grant — one grant or revoke written by hand in a program, beside what the
// boundaries declare (the policy pack checks it stays inside one workspace).
import { grantProblems, type GrantDescriptor } from "../../components/grants.ts";
import { inTransaction } from "../postgres/client.ts";
import { lock } from "../postgres/locks.ts";
import { apply, held, inEffect, lockKey, statement, type Grant } from "../postgres/grants-sql.ts";
import { UNKNOWN, type DiffKind, type ResourceKind } from "../server.ts";
import { canonical } from "./common.ts";

export const GRANT = "tenancy:postgres:Grant";

const identity = (g: Grant) => canonical([g.action, g.role, { ...g.on, except: undefined }]);
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((p) => b.includes(p));

export const grantKind: ResourceKind<Grant, Grant> = {
  token: GRANT,
  check(news) {
    if (canonical(news).includes(UNKNOWN)) return [];
    return grantProblems({ ...news, id: "" } as GrantDescriptor).map((reason) => ({ property: "privileges", reason }));
  },
  diff(olds, news) {
    const detailedDiff: Record<string, DiffKind> = {};
    const replace = identity(olds) !== identity(news);
    if (replace) detailedDiff.on = "update-replace";
    if (!sameSet(olds.privileges ?? [], news.privileges ?? [])) detailedDiff.privileges = "update";
    if (canonical((olds.on as { except?: unknown }).except ?? []) !== canonical((news.on as { except?: unknown }).except ?? [])) detailedDiff["on.except"] = "update";
    return { replaces: replace ? ["on"] : [], detailedDiff, deleteBeforeReplace: true };
  },
  async create(inputs, ctx) {
    await inTransaction(ctx.connection, async (sql) => { await lock(sql, lockKey(inputs.on)); await apply(sql, inputs, inputs.action, inputs.privileges); });
    return { id: `${inputs.action}:${inputs.role}:${lockKey(inputs.on)}`, outs: inputs };
  },
  async read(_id, state, ctx) {
    if (!state) return undefined;
    const privileges = await inTransaction(ctx.connection, (sql) => inEffect(sql, state));
    // Nothing in effect is gone: refresh drops it and the next up applies it again.
    return privileges && privileges.length > 0 ? { outs: { ...state, privileges }, inputs: { ...state, privileges } } : undefined;
  },
  async update(_id, olds, news, ctx) {
    await inTransaction(ctx.connection, async (sql) => {
      await lock(sql, lockKey(news.on));
      await apply(sql, news, news.action, news.privileges);
      const dropped = olds.privileges.filter((p) => !news.privileges.includes(p));
      // A grant no longer wanted is revoked; a revoke no longer wanted is forgotten, not undone.
      if (news.action === "grant" && dropped.length > 0) await sql.query(statement(sql, news, "revoke", dropped));
    });
    return news;
  },
  async delete(_id, state, ctx) {
    // Undoing a revoke would hand PUBLIC access to something; it is forgotten instead.
    if (state.action === "revoke") return;
    await inTransaction(ctx.connection, async (sql) => {
      if ((await held(sql, state)) === undefined) return; // the object or the role is already gone
      await lock(sql, lockKey(state.on));
      await sql.query(statement(sql, state, "revoke", state.privileges));
    });
  },
};
