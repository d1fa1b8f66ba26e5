#!/usr/bin/env node
// The scheduled audit's drift issue (.github/workflows/audit.yml): ONE open issue for all
// stacks, found again by a hidden marker AND its author (anyone can paste a marker into an
// issue; only the workflow's bot writes this one), with one section per stack that each run
// replaces. Drift or an audit that could not run opens the issue or updates it; when every
// stack's section says clean, the issue is closed.
//
//   node scripts/ci/audit-issue.mjs --stack dev --dir .tenancy/audit [--dry-run file]
//     reads <dir>/audit.md (the markdown report) and <dir>/audit.exit (0 clean, 1 findings,
//     2 error); GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, RUN_URL (a link to the run),
//     ISSUE_AUTHOR (default github-actions[bot]).
//
// Plain Node (fetch), no dependencies.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { args, github } from "./github-api.mjs";

export const MARKER = "<!-- tenancy-audit-drift -->";
export const TITLE = "Tenancy audit: the live tenancy differs from its declaration";
/** A stack's report is cut to this many characters (an issue body holds 65,536). */
const SECTION_LIMIT = 15_000;

const open = (stack) => `<!-- stack:${stack} -->`;
const close = (stack) => `<!-- /stack:${stack} -->`;


/** One stack's section: its verdict line, then its report folded. */
export function section(stack, exit, report, runUrl) {
  const verdict = exit === 0 ? "clean" : exit === 1 ? "drift found" : `the audit could not run (exit ${exit})`;
  let body = report.trimEnd();
  if (body.length > SECTION_LIMIT) body = `${body.slice(0, SECTION_LIMIT)}\n\n_(report cut at ${SECTION_LIMIT.toLocaleString("en-US")} characters; the full report is in the run)_`;
  const run = runUrl ? ` ([run](${runUrl}))` : "";
  return `${open(stack)}\n### Stack \`${stack}\`: ${verdict}${run}\n\n<details><summary>report</summary>\n\n${body}\n\n</details>\n${close(stack)}`;
}

/** The body with this stack's section replaced (or added), sections sorted by stack. */
export function merge(body, stack, text) {
  const sections = new Map();
  for (const m of (body ?? "").matchAll(/<!-- stack:([^ ]+) -->[^]*?<!-- \/stack:\1 -->/g)) sections.set(m[1], m[0]);
  sections.set(stack, text);
  const ordered = [...sections.keys()].sort().map((k) => sections.get(k));
  return `${MARKER}\nThe scheduled \`tenancy audit\` found the live tenancy differing from its declaration. Each stack's section is replaced by its latest run; the issue closes when every stack is clean.\n\n${ordered.join("\n\n")}\n`;
}

/** True when every stack section in the body says clean. */
export function allClean(body) {
  const verdicts = [...body.matchAll(/^### Stack `[^`]+`: (.+?)(?: \(\[run\]|$)/gm)].map((m) => m[1]);
  return verdicts.length > 0 && verdicts.every((v) => v === "clean");
}


/** The open drift issue: the marker in its body and the expected author; pull requests skipped. */
async function findIssue(repo, author) {
  for (let page = 1; ; page++) {
    const issues = await github(`/repos/${repo}/issues?state=open&creator=${encodeURIComponent(author)}&per_page=100&page=${page}`);
    const mine = issues.find((i) => !i.pull_request && i.user?.login === author && typeof i.body === "string" && i.body.includes(MARKER));
    if (mine) return mine;
    if (issues.length < 100) return undefined;
  }
}

/** Opens, updates or closes the issue for this stack's result. Returns what it did. */
export async function report({ stack, exit, markdown, runUrl }) {
  const { GITHUB_REPOSITORY: repo, GITHUB_TOKEN: token } = process.env;
  const author = process.env.ISSUE_AUTHOR || "github-actions[bot]";
  if (!repo || !token) throw new Error("set GITHUB_REPOSITORY and GITHUB_TOKEN");
  const issue = await findIssue(repo, author);
  const text = section(stack, exit, markdown, runUrl);
  if (!issue) {
    if (exit === 0) return { action: "none" };
    const created = await github(`/repos/${repo}/issues`, { method: "POST", body: JSON.stringify({ title: TITLE, body: merge(undefined, stack, text) }) });
    return { action: "opened", number: created.number };
  }
  const body = merge(issue.body, stack, text);
  const state = allClean(body) ? { state: "closed", state_reason: "completed" } : {};
  await github(`/repos/${repo}/issues/${issue.number}`, { method: "PATCH", body: JSON.stringify({ body, ...state }) });
  return { action: state.state === "closed" ? "closed" : "updated", number: issue.number };
}

async function main(argv) {
  const opts = args(argv);
  if (!opts.stack || !opts.dir) throw new Error("usage: audit-issue.mjs --stack <name> --dir <dir> [--dry-run <file>]");
  const markdown = await readFile(join(opts.dir, "audit.md"), "utf8").catch(() => "(no report: the audit did not run)");
  const exitText = await readFile(join(opts.dir, "audit.exit"), "utf8").catch(() => "2");
  const exit = Number(exitText.trim());
  if (opts["dry-run"]) {
    await writeFile(opts["dry-run"], merge(undefined, opts.stack, section(opts.stack, exit, markdown, process.env.RUN_URL)));
    console.error(`dry run: issue body written to ${opts["dry-run"]}`);
    return;
  }
  const done = await report({ stack: opts.stack, exit, markdown, runUrl: process.env.RUN_URL });
  console.error(done.action === "none" ? `stack ${opts.stack} clean; no drift issue open` : `drift issue ${done.action} (#${done.number})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`audit-issue: ${error.message}`);
    process.exit(1);
  });
}
