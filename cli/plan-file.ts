// The plan file (`tenancy plan --out plan.json`): what was reviewed, bound to where and when it
// may be applied, so that `tenancy apply --plan plan.json` applies exactly that or nothing. It
// records facts (commits, digests, versions, the stack's identity and state), never a verdict apply
// trusts: apply recomputes every fact and re-runs the rules itself (cli/apply.ts). A lower layer:
// the plan and apply commands both use it, it imports neither. Secrets in a saved Pulumi update
// plan are encrypted by the stack's secrets provider, as in state.
import { readFile, writeFile } from "node:fs/promises";
import { escapeText } from "../components/escape.ts";
import { Exit, ExitError } from "./errors.ts";

/** 2: binds commits, code, toolkit and engine versions, stack identity and state, expiry, scoped acknowledgements. */
export const PLAN_FILE_VERSION = 2;
/** How long a plan may wait for its apply unless `--ttl` says otherwise. */
export const DEFAULT_TTL_MS = 7 * 24 * 3600_000;

export interface Digest {
  /** Relative to the project root when inside it. */
  readonly path: string;
  /** null: the file did not exist. */
  readonly sha256: string | null;
}

/** `rule-id:workspace` covers that rule's findings about that workspace; no workspace: every finding of the rule in this change. */
export interface Acknowledgement {
  readonly rule: string;
  readonly workspace: string | null;
  readonly by: string | null;
  readonly at: string;
}

/** Where a stack lives: the backend (without credentials), the Pulumi project, the stack. */
export interface StackIdentity {
  readonly backend: string;
  readonly project: string;
  readonly stack: string;
}

/** What a no-op run leaves alone: the resources in state, secrets masked (a digest of their decrypted values is not ours to take). */
export interface StateVersion {
  readonly resources: number;
  readonly sha256: string;
}

export interface PlannedStack {
  readonly stack: string;
  /** The declaration before: `REF:path` read at `commit`, or a file; its digest. */
  readonly base: { readonly source: string; readonly commit: string | null; readonly path: string | null; readonly sha256: string } | null;
  /** The declaration to apply: the file the stack program reads. */
  readonly declaration: Digest;
  readonly stackConfig: Digest;
  /** With `--engine`: where the update plan was made and the state it was made against. */
  readonly target?: StackIdentity;
  readonly state?: StateVersion;
  /** `pulumi preview --save-plan` output (with `--engine`). */
  readonly updatePlan?: unknown;
}

export interface PlanFile {
  readonly version: typeof PLAN_FILE_VERSION;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** HEAD of the work tree at plan time, and the commit the base was read from; null outside git. */
  readonly commits: { readonly head: string | null; readonly base: string | null };
  /** SHA-256 over the toolkit's files tracked by git outside stacks/ (the code that runs); null outside git. */
  readonly code: string | null;
  readonly toolkit: string;
  /** The engine's versions (with `--engine`). */
  readonly engine: { readonly pulumi: string; readonly languageHost: string } | null;
  readonly settings: { readonly maxRemovalShare?: number; readonly minAdmins?: number };
  readonly acknowledgements: readonly Acknowledgement[];
  readonly stacks: readonly PlannedStack[];
}

export async function writePlanFile(file: string, plan: PlanFile): Promise<void> {
  await writeFile(file, JSON.stringify(plan, null, 2) + "\n", { mode: 0o600 });
}

/** Reads a plan file and checks its shape (never its claims: apply recomputes those). */
export async function readPlanFile(file: string): Promise<PlanFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ExitError(`cannot read the plan file ${shown(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, Exit.Usage);
  }
  const plan = parsed as Partial<PlanFile> | null;
  const wrong = shapeError(plan);
  if (wrong) throw new ExitError(`${shown(file)} is not a tenancy plan file (version ${PLAN_FILE_VERSION}): ${wrong}`, Exit.Usage);
  return plan as PlanFile;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isDigest = (v: unknown) => !!v && typeof v === "object" && isString((v as Digest).path) && ((v as Digest).sha256 === null || isString((v as Digest).sha256));

function shapeError(plan: Partial<PlanFile> | null): string | undefined {
  if (!plan || typeof plan !== "object") return "not an object";
  if (plan.version !== PLAN_FILE_VERSION) return `version ${JSON.stringify(plan.version)}`;
  if (!isString(plan.createdAt) || !isString(plan.expiresAt)) return "no createdAt/expiresAt";
  if (!plan.commits || typeof plan.commits !== "object") return "no commits";
  if (!isString(plan.toolkit)) return "no toolkit version";
  if (!Array.isArray(plan.acknowledgements) || !plan.acknowledgements.every((a) => a && isString(a.rule))) return "bad acknowledgements";
  if (!Array.isArray(plan.stacks) || plan.stacks.length === 0) return "no stacks";
  for (const s of plan.stacks) {
    if (!s || !isString(s.stack) || !isDigest(s.declaration) || !isDigest(s.stackConfig)) return "a stack without its name or digests";
  }
  return undefined;
}

/** Parses `--ttl`: `90m`, `12h`, `7d` (or seconds). */
export function parseTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const unit = { "": 1000, s: 1000, m: 60_000, h: 3600_000, d: 24 * 3600_000 }[match?.[2] ?? ""];
  const ms = match && unit ? Number(match[1]) * unit : NaN;
  if (!(ms > 0 && ms <= 90 * 24 * 3600_000)) throw new ExitError(`--ttl must be a duration such as 90m, 12h or 7d, at most 90d; got ${shown(JSON.stringify(text))}`, Exit.Usage);
  return ms;
}

/** Parses `--acknowledge rule-id[:workspace]`. */
export function parseAcknowledgement(text: string, acknowledgeable: readonly string[], by: string | null, at: string): Acknowledgement {
  const [rule, workspace, extra] = text.split(":");
  if (!rule || !acknowledgeable.includes(rule) || extra !== undefined) {
    throw new ExitError(`--acknowledge ${shown(JSON.stringify(text))}: give <rule-id>:<workspace>; only guards can be acknowledged: ${acknowledgeable.join(", ")}`, Exit.Usage);
  }
  if (workspace !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(workspace)) {
    throw new ExitError(`--acknowledge ${shown(JSON.stringify(text))}: ${shown(JSON.stringify(workspace))} is not a workspace slug`, Exit.Usage);
  }
  return { rule, workspace: workspace ?? null, by, at };
}

/** Whether an acknowledgement covers a finding of `rule` about `workspace` (undefined: organization-level). */
export function covers(acks: readonly Pick<Acknowledgement, "rule" | "workspace">[], rule: string, workspace: string | undefined): boolean {
  return acks.some((a) => a.rule === rule && (a.workspace === null || a.workspace === workspace));
}

/** What apply found now, to compare with what the file recorded. */
export interface CurrentFacts {
  readonly now: Date;
  readonly commits: { readonly head: string | null };
  readonly code: string | null;
  readonly toolkit: string;
}

/** The file-level checks (no stack, no engine): one line per failed check. */
export function fileRefusals(plan: PlanFile, now: CurrentFacts): string[] {
  const out: string[] = [];
  const created = Date.parse(plan.createdAt);
  const expires = Date.parse(plan.expiresAt);
  if (!(expires > now.now.getTime()) || !(created <= now.now.getTime() + 60_000) || !(expires > created)) {
    out.push(`expiry: the plan expired at ${shown(plan.expiresAt)} (made ${shown(plan.createdAt)}); plan again`);
  }
  if (plan.commits.head !== now.commits.head) out.push(`head commit: planned at ${shown(plan.commits.head ?? "(no git)")}, the work tree is at ${now.commits.head ?? "(no git)"}; plan again`);
  if (plan.code !== now.code) out.push(`code: the toolkit's tracked files (outside stacks/) changed since planning (sha256 ${short(plan.code)} → ${short(now.code)}); plan again`);
  if (plan.toolkit !== now.toolkit) out.push(`toolkit version: planned with ${shown(plan.toolkit)}, this is ${now.toolkit}; plan again`);
  return out;
}

export function short(digest: string | null | undefined): string {
  return digest === null || digest === undefined ? "(none)" : `${shown(String(digest).slice(0, 12))}…`;
}

/** Anything read from a plan file or a declaration, as one safe line (components/escape.ts). */
export function shown(value: unknown): string {
  return escapeText(String(value));
}
