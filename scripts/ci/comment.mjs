#!/usr/bin/env node
// The pull-request comments of the pipeline: one plan comment per pull request, found again by a
// hidden marker AND its author (the pipeline's own identity), updated in place; never a comment
// someone else wrote, even one that quotes the marker.
//
//   node scripts/ci/comment.mjs body --dir .tenancy/ci --out comment.md
//       assembles the plan comment from plan.sh's outputs: who/what/where (head commit, run link,
//       acknowledgements and who gave them), the plan (`tenancy plan --format markdown`, passed
//       through untouched: it escapes names itself), the checks, each stack's engine preview
//       folded, under 65,536 characters.
//   node scripts/ci/comment.mjs post --body comment.md [--marker plan|apply] [--dry-run file]
//       creates or updates the comment (GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, GITHUB_API_URL;
//       TENANCY_COMMENT_AUTHOR: the login the token posts as, default: asked from GET /user, and
//       `github-actions[bot]` for the workflow token, which may not ask).
//
// Plain Node (fetch), no dependencies: the commenting job checks out nothing but this file's
// folder and runs no project code. Everything it writes that did not come out of `tenancy plan`
// is a commit SHA, a URL, a rule id, a workspace slug or a login, each checked against its
// shape before it is written; anything else is left out.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { args, github } from "./github-api.mjs";

export const MARKERS = { plan: "<!-- tenancy-plan-comment -->", apply: "<!-- tenancy-apply-comment -->" };
export const MARKER = MARKERS.plan;
export const LIMIT = 65_536;
export const DEFAULT_AUTHOR = "github-actions[bot]";

const SHA = /^[0-9a-f]{40}$/;
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;
const ACK = /^[a-z0-9]+(?:-[a-z0-9]+)*(?::[a-z0-9]+(?:-[a-z0-9]+)*)?$/;
const SAFE_PATH = /^[A-Za-z0-9._/-]{1,200}$/;

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

/** A run link only when it is an https URL of plain characters (no markdown can ride on it). */
function link(url) {
  return typeof url === "string" && /^https:\/\/[A-Za-z0-9.-]+(?::\d+)?\/[A-Za-z0-9._~/%-]*$/.test(url) ? url : undefined;
}

/** The lines saying what was planned, where, and who acknowledged what (from meta.json). */
export function header(meta) {
  if (!meta) return [];
  const lines = [];
  const sha = SHA.test(meta.headSha ?? "") ? meta.headSha : undefined;
  const run = link(meta.runUrl);
  lines.push(`Planned at \`${sha ? sha.slice(0, 12) : "(unknown commit)"}\`${SHA.test(meta.baseSha ?? "") ? ` against base \`${meta.baseSha.slice(0, 12)}\`` : ""}${run ? ` · [pipeline run](${run})` : ""}`);
  const acks = (meta.acknowledgements ?? []).filter((a) => ACK.test(a.ack ?? ""));
  if (acks.length > 0) {
    lines.push("", "Acknowledged (recorded in the reviewed plan, honoured at apply):");
    for (const a of acks) {
      const by = LOGIN.test(a.by ?? "") ? ` by @\u200b${a.by}` : "";
      lines.push(`- \`${a.ack}\` (${a.via === "label" ? "label" : "setting"}${by})`);
    }
  }
  if (meta.engine === "code-changed") {
    const shown = (meta.codeChanged ?? []).filter((p) => SAFE_PATH.test(p)).slice(0, 10);
    const more = (meta.codeChanged ?? []).length - shown.length;
    lines.push("", "> [!WARNING]");
    lines.push("> **Engine preview skipped: this pull request changes code outside `stacks/`**" +
      (shown.length ? ` (${shown.map((p) => `\`${p}\``).join(", ")}${more > 0 ? ` and ${more} more` : ""})` : "") +
      ". Pipelines never run a pull request's code with the state backend or the passphrase, so no engine plan was saved and its merge applies nothing: land the code change first, then change `stacks/` in a pull request of its own.");
  }
  return lines;
}

export async function buildBody(dir) {
  const meta = await text(join(dir, "meta.json")).then((t) => (t ? JSON.parse(t) : undefined));
  const plan = (await text(join(dir, "plan.md"))) ?? "## tenancy plan did not run\n";
  const planExit = Number((await text(join(dir, "plan.exit")))?.trim() ?? "2");
  const planErr = (await text(join(dir, "plan.err")))?.trim();
  const validateExit = Number((await text(join(dir, "validate.exit")))?.trim() ?? "0");
  const validateOut = (await text(join(dir, "validate.txt"))) ?? "";
  const previews = [];
  for (const name of (await readdir(dir)).filter((f) => /^preview-.+\.txt$/.test(f)).sort()) {
    const stack = name.slice("preview-".length, -".txt".length);
    if (!/^[A-Za-z0-9._-]+$/.test(stack)) continue;
    const code = (await text(join(dir, `preview-${stack}.exit`)))?.trim() ?? "1";
    const exit = /^\d+$/.test(code) ? Number(code) : code;
    previews.push({ stack, exit, output: (await text(join(dir, name))) ?? "" });
  }

  const head = header(meta);
  const parts = [MARKERS.plan, ...(head.length ? [...head, ""] : []), plan.trimEnd()];
  if (planExit === 2 && planErr) parts.push("", "```text\n" + planErr.replace(/`{3,}/g, "'''").slice(0, 4000) + "\n```");
  parts.push("", "### Checks", "");
  parts.push(`- \`tenancy validate\`: ${validateExit === 0 ? "passed" : `failed (exit ${validateExit})`}`);
  parts.push(`- \`tenancy plan\`: ${planExit === 0 ? "passed" : planExit === 1 ? "violations (exit 1)" : `could not run (exit ${planExit})`}`);
  for (const p of previews) parts.push(`- engine plan, \`pulumi preview --policy-pack policies\` (${p.stack}): ${previewStatus(p.exit)}`);
  if (previews.length === 0) parts.push(`- engine plan: ${engineStatus(meta, (await text(join(dir, "preview.disabled"))) !== undefined)}`);
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
  if (exit === "missing") return "failed: the stack does not exist in the state backend (pull requests never create stacks; create it by hand first)";
  return exit === 0 ? "passed" : `failed (exit ${exit})`;
}

function engineStatus(meta, disabled) {
  if (meta?.engine === "code-changed") return "skipped: code outside `stacks/` changed (no secrets for this pull request)";
  if (disabled) return "not run (TENANCY_PREVIEW=0)";
  return "no stack changed";
}

/**
 * The login comments are posted as: TENANCY_COMMENT_AUTHOR, else GET /user (a personal or app
 * token), else the workflow token's `github-actions[bot]` (which may not call GET /user).
 */
export async function author() {
  if (process.env.TENANCY_COMMENT_AUTHOR) return process.env.TENANCY_COMMENT_AUTHOR;
  try {
    const me = await github("/user");
    if (typeof me?.login === "string") return me.login;
  } catch (error) {
    if (error.status !== 401 && error.status !== 403 && error.status !== 404) throw error;
  }
  return DEFAULT_AUTHOR;
}

/**
 * Updates this pipeline's own comment carrying the marker, or creates one. A comment counts as
 * ours only when its author is the token's identity: anyone may paste the marker into a comment.
 */
export async function post(body, kind = "plan") {
  const { GITHUB_REPOSITORY: repo, PR_NUMBER: pr, GITHUB_TOKEN: token } = process.env;
  if (!repo || !pr || !token) throw new Error("set GITHUB_REPOSITORY, PR_NUMBER and GITHUB_TOKEN (or TENANCY_COMMENT_DRY_RUN)");
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || !/^\d+$/.test(pr)) throw new Error(`GITHUB_REPOSITORY ${JSON.stringify(repo)} or PR_NUMBER ${JSON.stringify(pr)} is malformed`);
  const marker = MARKERS[kind];
  if (!marker) throw new Error(`unknown comment kind ${JSON.stringify(kind)}: plan or apply`);
  if (!body.startsWith(marker)) body = `${marker}\n${body}`;
  const me = await author();
  for (let page = 1; ; page++) {
    const comments = await github(`/repos/${repo}/issues/${pr}/comments?per_page=100&page=${page}`);
    const mine = comments.find((c) => c?.user?.login === me && typeof c.body === "string" && c.body.startsWith(marker));
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
    if (!opts.body) throw new Error("usage: comment.mjs post --body <file> [--marker plan|apply] [--dry-run <file>]");
    const body = await readFile(opts.body, "utf8");
    if (opts["dry-run"]) {
      await writeFile(opts["dry-run"], body);
      console.error(`dry run: comment body written to ${opts["dry-run"]}`);
      return;
    }
    const done = await post(body, opts.marker ?? "plan");
    console.error(`comment ${done.action} (id ${done.id})`);
    return;
  }
  throw new Error("usage: comment.mjs body|post ...");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`comment: ${error.message}`);
    process.exitCode = 1;
  });
}
