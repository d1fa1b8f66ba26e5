#!/usr/bin/env node
// The pull-request comment of scripts/ci/plan.sh: one comment per pull request, found again by a
// hidden marker and updated in place, never a new one per push.
//
//   node scripts/ci/comment.mjs body --dir .tenancy/ci --out comment.md
//       assembles the body from plan.sh's outputs: the plan (risk summary first), validation,
//       then each changed stack's `pulumi preview --policy-pack policies`, under 65,536 characters.
//   node scripts/ci/comment.mjs post --body comment.md [--dry-run file]
//       creates or updates the comment (GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, GITHUB_API_URL);
//       --dry-run writes the body to `file` and prints what it would do instead.
//
// Plain Node (fetch), no dependencies, so any CI can run it; GitLab users post `comment.md` as a
// merge-request note the same way (see README).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const MARKER = "<!-- tenancy-plan-comment -->";
export const LIMIT = 65_536;

function args(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
    else out._.push(argv[i]);
  }
  return out;
}

async function text(file) {
  return readFile(file, "utf8").catch(() => undefined);
}

/** Output shown in a fence: its last `budget` characters (where results and violations are), fences defused. */
function fenced(output, budget) {
  let body = output.replace(/`{3,}/g, "'''").trimEnd();
  if (body.length > budget) {
    const cut = body.length - budget;
    body = `… ${cut.toLocaleString("en-US")} characters cut from the start …\n${body.slice(cut)}`;
  }
  return "```text\n" + body + "\n```";
}

export async function buildBody(dir) {
  const plan = (await text(join(dir, "plan.md"))) ?? "## tenancy plan did not run\n";
  const planExit = Number((await text(join(dir, "plan.exit")))?.trim() ?? "2");
  const planErr = (await text(join(dir, "plan.err")))?.trim();
  const validateExit = Number((await text(join(dir, "validate.exit")))?.trim() ?? "0");
  const validateOut = (await text(join(dir, "validate.txt"))) ?? "";
  const previews = [];
  for (const name of (await readdir(dir)).filter((f) => /^preview-.+\.txt$/.test(f)).sort()) {
    const stack = name.slice("preview-".length, -".txt".length);
    const code = (await text(join(dir, `preview-${stack}.exit`)))?.trim() ?? "1";
    const exit = code === "skipped" ? "skipped" : Number(code);
    previews.push({ stack, exit, output: (await text(join(dir, name))) ?? "" });
  }

  const parts = [MARKER, plan.trimEnd()];
  if (planExit === 2 && planErr) parts.push("", "```text\n" + planErr.replace(/`{3,}/g, "'''").slice(0, 4000) + "\n```");
  parts.push("", "### Checks", "");
  parts.push(`- \`tenancy validate\`: ${validateExit === 0 ? "passed" : `failed (exit ${validateExit})`}`);
  parts.push(`- \`tenancy plan\`: ${planExit === 0 ? "passed" : planExit === 1 ? "violations (exit 1)" : `could not run (exit ${planExit})`}`);
  for (const p of previews) parts.push(`- \`pulumi preview --policy-pack policies\` (${p.stack}): ${previewStatus(p.exit)}`);
  if (previews.length === 0) {
    const disabled = (await text(join(dir, "preview.disabled"))) !== undefined;
    parts.push(`- \`pulumi preview\`: ${disabled ? "not run (TENANCY_PREVIEW=0)" : "no stack changed"}`);
  }
  let body = parts.join("\n") + "\n";
  if (validateExit !== 0) body += `\n<details><summary>tenancy validate</summary>\n\n${fenced(validateOut, 6000)}\n\n</details>\n`;

  // Previews share what is left, evenly; each keeps its end.
  const overhead = 200;
  const budget = Math.max(500, Math.floor((LIMIT - body.length - previews.length * overhead) / Math.max(1, previews.length)));
  for (const p of previews) {
    body += `\n<details><summary>pulumi preview --policy-pack policies: <code>${p.stack}</code> (${previewStatus(p.exit)})</summary>\n\n${fenced(p.output, budget)}\n\n</details>\n`;
  }
  if (body.length > LIMIT) body = body.slice(0, LIMIT - 80) + "\n\n_(cut at GitHub's 65,536-character limit)_\n";
  return body;
}

function previewStatus(exit) {
  if (exit === "skipped") return "skipped: no state backend for this run";
  return exit === 0 ? "passed" : `failed (exit ${exit})`;
}

async function github(path, init = {}) {
  const api = process.env.GITHUB_API_URL ?? "https://api.github.com";
  const response = await fetch(`${api}${path}`, {
    ...init,
    headers: {
      Accept: "application/vnd.github+json",
      Authorization: `Bearer ${process.env.GITHUB_TOKEN}`,
      "X-GitHub-Api-Version": "2022-11-28",
      ...(init.body ? { "Content-Type": "application/json" } : {}),
    },
  });
  if (!response.ok) throw new Error(`GitHub API ${init.method ?? "GET"} ${path}: ${response.status} ${response.statusText}`);
  return response.json();
}

/** Updates the comment carrying the marker, or creates it. Returns what it did. */
export async function post(body) {
  const { GITHUB_REPOSITORY: repo, PR_NUMBER: pr, GITHUB_TOKEN: token } = process.env;
  if (!repo || !pr || !token) throw new Error("set GITHUB_REPOSITORY, PR_NUMBER and GITHUB_TOKEN (or TENANCY_COMMENT_DRY_RUN)");
  for (let page = 1; ; page++) {
    const comments = await github(`/repos/${repo}/issues/${pr}/comments?per_page=100&page=${page}`);
    const mine = comments.find((c) => typeof c.body === "string" && c.body.includes(MARKER));
    if (mine) {
      await github(`/repos/${repo}/issues/comments/${mine.id}`, { method: "PATCH", body: JSON.stringify({ body }) });
      return { action: "updated", id: mine.id };
    }
    if (comments.length < 100) break;
  }
  const created = await github(`/repos/${repo}/issues/${pr}/comments`, { method: "POST", body: JSON.stringify({ body }) });
  return { action: "created", id: created.id };
}

async function main(argv) {
  const opts = args(argv);
  const [command] = opts._;
  if (command === "body") {
    if (!opts.dir || !opts.out) throw new Error("usage: comment.mjs body --dir <dir> --out <file>");
    await writeFile(opts.out, await buildBody(opts.dir));
    return;
  }
  if (command === "post") {
    if (!opts.body) throw new Error("usage: comment.mjs post --body <file> [--dry-run <file>]");
    const body = await readFile(opts.body, "utf8");
    if (opts["dry-run"]) {
      await writeFile(opts["dry-run"], body);
      console.error(`dry run: comment body written to ${opts["dry-run"]}`);
      return;
    }
    const done = await post(body);
    console.error(`comment ${done.action} (id ${done.id})`);
    return;
  }
  throw new Error("usage: comment.mjs body|post ...");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`comment: ${error.message}`);
    process.exit(1);
  });
}
