// For the interrupted-apply e2e test: seeded kill points, generated 30-workspace declarations,
// the engine's processes found in /proc and killed, the file backend's state read as it is on
// disk, and the recovery steps run exactly as README.md's "Interrupted applies" writes them.
import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { EngineEvent, Stack, UpResult } from "@pulumi/pulumi/automation/index.js";
import { dump, load } from "js-yaml";
import { generateDeclaration } from "../../bench/generate.ts";
import { root } from "./harness.ts";

const run = promisify(execFile);

/** The seed of the kill points: TENANCY_KILL_SEED, or a fresh one (printed, so a failure replays). */
export function killSeed(): number {
  const given = process.env.TENANCY_KILL_SEED;
  if (given === undefined || given === "") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`TENANCY_KILL_SEED must be a non-negative integer; got ${JSON.stringify(given)}`);
  return seed;
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// ---- declarations ---------------------------------------------------------------------------

export interface DeclaredWorkspace {
  readonly slug: string;
  readonly decommissioned: boolean;
  /** email -> role */
  readonly members: Readonly<Record<string, string>>;
  /** integration slug -> provider */
  readonly integrations: Readonly<Record<string, string>>;
}

export interface Declared {
  readonly org: string;
  readonly text: string;
  readonly workspaces: readonly DeclaredWorkspace[];
}

interface Doc {
  organization: { slug: string; name: string };
  workspaces: { slug: string; decommissioned?: boolean; members: { email: string; role: string }[]; integrations: { slug: string; provider: string; credentialsSecret: string }[] }[];
}

export const WORKSPACES = 30;
const PEOPLE = 120;
const generated = (n: number) => load(generateDeclaration({ workspaces: n, membersPerWorkspace: 3, people: PEOPLE })) as Doc;

function declared(org: string, doc: Doc): Declared {
  doc.organization.slug = org;
  doc.organization.name = `Organization ${org}`;
  return {
    org,
    text: dump(doc, { flowLevel: 4, lineWidth: -1 }),
    workspaces: doc.workspaces.map((w) => ({
      slug: w.slug,
      decommissioned: w.decommissioned ?? false,
      members: Object.fromEntries(w.members.map((m) => [m.email.toLowerCase(), m.role])),
      integrations: Object.fromEntries(w.integrations.map((i) => [i.slug, i.provider])),
    })),
  };
}

/** The first apply: 30 workspaces, every third with a Slack integration, the last three decommissioned. */
export function firstDeclaration(org: string): Declared {
  const doc = generated(WORKSPACES);
  doc.workspaces.forEach((w, i) => {
    if (i % 3 !== 0) w.integrations = [];
    if (i >= WORKSPACES - 3) w.decommissioned = true;
  });
  return declared(org, doc);
}

/**
 * The first declaration grown by `extra` active workspaces (ws-30, ws-31, …; every third with a
 * Slack integration): applied over the first, a plan of creates only.
 */
export function grownDeclaration(org: string, extra: number): Declared {
  const doc = generated(WORKSPACES + extra);
  doc.workspaces.forEach((w, i) => {
    if (i % 3 !== 0) w.integrations = [];
    if (i >= WORKSPACES - 3 && i < WORKSPACES) w.decommissioned = true;
  });
  return declared(org, doc);
}

/**
 * The change applied over the first: the three decommissioned workspaces removed (their boundary,
 * rows and credentials deleted), three new ones, every member list changed (a role flipped, a
 * person added), and integrations moved (Slack swapped for a CRM in every sixth, a CRM added to
 * every third from the second).
 */
export function changedDeclaration(org: string): Declared {
  const doc = generated(WORKSPACES + 3);
  doc.workspaces = doc.workspaces.filter((_, i) => i < WORKSPACES - 3 || i >= WORKSPACES);
  for (const w of doc.workspaces) {
    const i = Number(w.slug.slice("ws-".length));
    const second = w.members[1]!;
    second.role = second.role === "viewer" ? "editor" : "viewer";
    w.members.push({ email: `person${(i * 7 + 60) % PEOPLE}@acme.test`, role: "viewer" });
    // An active workspace's credentials resource is protected: an integration may be swapped
    // (an update of the resource), but removing the last one would delete it, which is refused.
    const crm = { slug: "crm", provider: "hubspot", credentialsSecret: `ws${i}CrmToken` };
    if (i % 6 === 3) w.integrations = w.integrations.filter((x) => x.slug === "slack");
    else if (i % 3 === 0 || i % 3 === 1) w.integrations = [crm];
    else w.integrations = [];
  }
  return declared(org, doc);
}

// ---- processes ------------------------------------------------------------------------------

export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly cmd: string;
  /** Start time in clock ticks since boot: with the pid, it names one process (pids are reused). */
  readonly start: string;
}

function readProc(pid: number): (Proc & { state: string }) | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = s.slice(s.lastIndexOf(")") + 2).split(" ");
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    return { pid, ppid: Number(fields[1]), state: fields[0]!, start: fields[19]!, cmd };
  } catch {
    return undefined; // gone while we looked
  }
}

export function processes(): Proc[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))).filter((p): p is NonNullable<typeof p> => !!p && p.state !== "Z");
}

/**
 * Still the same process (same pid and start time), alive and not a zombie (an orphan's zombie
 * waits for PID 1, which may never reap it). Only such a process is ever signalled.
 */
export const running = (p: Proc) => { const now = readProc(p.pid); return !!now && now.state !== "Z" && now.start === p.start; };

export function descendants(pid: number, all = processes()): Proc[] {
  const found: Proc[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    const parent = queue.pop()!;
    for (const p of all.filter((x) => x.ppid === parent)) { found.push(p); queue.push(p.pid); }
  }
  return found;
}

/** One variable of a process's environment as it started, or undefined (unset, or the process is gone). */
export function environOf(pid: number, name: string): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((l) => l.startsWith(`${name}=`));
    return entry?.slice(name.length + 1);
  } catch {
    return undefined;
  }
}

export interface EngineRun {
  readonly engine: Proc;
  /** What the engine had started when it was found. */
  readonly tree: Proc[];
  /**
   * The engine's PULUMI_BACKEND_URL, which everything it starts inherits: each test file has its
   * own backend folder, so with e2e files running side by side it tells this file's processes
   * from another file's (an engine's port alone may be reused by another engine once it is dead).
   */
  readonly backendUrl: string;
}

/** The `pulumi up` this process started for `stack`, and what it started. */
export function engineOf(stackName: string): EngineRun {
  const all = processes();
  const engine = all.find((p) => p.ppid === process.pid && / up /.test(p.cmd) && p.cmd.includes(`--stack ${stackName}`) && p.cmd.split(" ")[0]!.endsWith("/pulumi"));
  if (!engine) throw new Error(`no running \`pulumi up\` for stack ${stackName} among this process's children`);
  const backendUrl = environOf(engine.pid, "PULUMI_BACKEND_URL");
  if (!backendUrl) throw new Error(`the \`pulumi up\` for stack ${stackName} (pid ${engine.pid}) has no PULUMI_BACKEND_URL in its environment`);
  return { engine, tree: descendants(engine.pid, all), backendUrl };
}

export const isLanguageHost = (p: Proc) => p.cmd.split(" ")[0]!.endsWith("/pulumi-language-nodejs");

export interface Settled {
  /** Processes the killed engine had started that were still running after the wait (killed then). */
  readonly strays: readonly string[];
  /** Language hosts still running after the wait (killed then): they do not watch the engine. */
  readonly languageHosts: number;
  readonly waitedMs: number;
}

/** A process's state, parent, kernel wait channel and thread count, for a stray's report. */
function whatItDoes(pid: number): string {
  const now = readProc(pid);
  const wchan = (() => { try { return readFileSync(`/proc/${pid}/wchan`, "utf8"); } catch { return "?"; } })();
  const threads = (() => { try { return readdirSync(`/proc/${pid}/task`).length; } catch { return 0; } })();
  return now ? `state ${now.state}, parent ${now.ppid}, waiting in ${wchan || "-"}, ${threads} threads` : "gone";
}

/**
 * After the engine is SIGKILLed: waits until everything it started has exited by itself (the
 * provider plugin and the program must; a language host may not), then kills what is left and
 * says what it was, so no process outlives the test.
 */
export async function settle(killed: Pick<EngineRun, "tree" | "backendUrl">, timeoutMs = 15_000): Promise<Settled> {
  const { tree, backendUrl } = killed;
  const started = Date.now();
  // A language host, plugin or program started with the dead engine's address but missing from
  // the snapshot (forked as it was taken) counts too. Such a process may still be starting when
  // the engine dies (a plugin loading its modules on a busy machine), so it gets the same wait as
  // the snapshot's processes: it is looked for on every turn. Only this engine's: the address is
  // its own port, and the backend URL it passed down is this test file's own folder, so a process
  // of an e2e file running alongside (even one whose engine got the dead engine's port) never matches.
  const addresses = [...new Set(tree.map((p) => p.cmd.match(/127\.0\.0\.1:\d+/)?.[0]).filter((a): a is string => !!a))];
  const late: Proc[] = [];
  const lookForLate = () => {
    for (const p of processes()) {
      const known = [...tree, ...late].some((t) => t.pid === p.pid && t.start === p.start);
      if (!known && addresses.some((a) => p.cmd.includes(` ${a}`)) && environOf(p.pid, "PULUMI_BACKEND_URL") === backendUrl) late.push(p);
    }
  };
  const waitingFor = () => { lookForLate(); return [...tree, ...late].filter((p) => !isLanguageHost(p) && running(p)); };
  while (waitingFor().length > 0 && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 100));
  // What a stray was doing when the wait ran out (state, parent, kernel wait channel), read
  // before it is killed: "S 1 ep_poll" is an orphan idling in its event loop, "D" is stuck in I/O.
  const strays = [...tree, ...late].filter((p) => !isLanguageHost(p) && running(p))
    .map((p) => ({ ...p, why: `${late.includes(p) ? "started late, " : ""}${whatItDoes(p.pid)}` }));
  const hosts = [...tree, ...late].filter((p) => isLanguageHost(p) && running(p));
  for (const p of [...strays, ...hosts]) if (running(p)) { try { process.kill(p.pid, "SIGKILL"); } catch { /* gone meanwhile */ } }
  return { strays: strays.map((p) => `${p.cmd.slice(0, 160)} (${p.why})`), languageHosts: hosts.length, waitedMs: Date.now() - started };
}

// ---- an apply interrupted at its N-th resource event ----------------------------------------

export interface Interrupted {
  /** Resource events (pre and outputs, any op) seen before the apply ended. */
  readonly events: number;
  /** Whether `interrupt` ran before the apply ended by itself. */
  readonly interrupted: boolean;
  readonly result?: UpResult;
  readonly error?: Error & { commandResult?: { stdout: string; stderr: string } };
  readonly interruptResult?: unknown;
}

export async function upInterruptedAt<T>(stack: Stack, at: number, interrupt: () => T | Promise<T>, upOptions: { plan?: string } = {}): Promise<Interrupted> {
  let events = 0;
  let fired: Promise<T> | undefined;
  const onEvent = (event: EngineEvent) => {
    if (event.resourcePreEvent || event.resOutputsEvent) events++;
    if (events >= at && !fired) fired = Promise.resolve().then(interrupt);
  };
  const outcome = await stack.up({ ...upOptions, onEvent }).then((result) => ({ result }), (error: Error) => ({ error }));
  const interruptResult = fired ? await fired : undefined;
  return { events, interrupted: fired !== undefined, interruptResult, ...outcome };
}

// ---- the file backend on disk ---------------------------------------------------------------

export interface BackendFiles {
  /** Attribute sidecars left empty by a kill during a state write (`failed to load checkpoint: EOF`). */
  readonly emptyAttrs: readonly string[];
  readonly locks: number;
  /** pending_operations of the stack's checkpoint, as "op name" (read from the file itself). */
  readonly pending: readonly string[];
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

export async function backendFiles(stateDir: string, stackName: string): Promise<BackendFiles> {
  const files = await walk(join(stateDir, ".pulumi"));
  const emptyAttrs: string[] = [];
  for (const f of files.filter((x) => x.endsWith(".attrs"))) if ((await stat(f)).size === 0) emptyAttrs.push(f.slice(stateDir.length + 1));
  const locks = files.filter((f) => f.includes(`/locks/`) && f.includes(`/${stackName}/`) && f.endsWith(".json")).length;
  const checkpoint = JSON.parse(await readFile(join(stateDir, ".pulumi", "stacks", "tenancy", `${stackName}.json`), "utf8")) as
    { checkpoint?: { latest?: { pending_operations?: { type: string; resource: { urn: string } }[] } } };
  const pending = (checkpoint.checkpoint?.latest?.pending_operations ?? []).map((p) => `${p.type} ${p.resource.urn.split("::").pop()}`).sort();
  return { emptyAttrs, locks, pending };
}

// ---- the documented recovery ----------------------------------------------------------------

/** The command lines of README.md's "Interrupted applies" block, comments dropped. */
export async function recoverySteps(): Promise<string[]> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Interrupted applies"));
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no "## Interrupted applies" section with a ```sh block');
  return block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

export interface StepRun { readonly line: string; readonly ok: boolean; readonly ms: number; readonly output: string }

/** Runs one shell line from the project root with the stack's engine environment, $STACK and $STATE set. */
export async function shell(line: string, env: Record<string, string>): Promise<StepRun> {
  const started = Date.now();
  try {
    const r = await run("sh", ["-c", line], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { line, ok: true, ms: Date.now() - started, output: `${r.stdout}${r.stderr}` };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { line, ok: false, ms: Date.now() - started, output: `${e.stdout ?? ""}${e.stderr ?? e.message}` };
  }
}

/** The lines an engine run printed as errors (`error: ...`), trimmed, in order, without repeats. */
export function errorLines(output: string): string[] {
  return [...new Set(output.split("\n").map((l) => l.trim()).filter((l) => /^error: /.test(l)))];
}

/** Signs of a stack trace in engine output: JS frames, Go panics and goroutine dumps. */
export function stackTraceLines(output: string): string[] {
  return output.split("\n").filter((l) => /^\s+at .+(\(|:\d+)/.test(l) || /^(panic:|goroutine \d+ \[)/.test(l.trim()));
}
