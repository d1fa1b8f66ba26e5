#!/usr/bin/env node
// Read-only GitHub look-ups of the pipeline (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL).
// Plain Node, no dependencies. Prints `key=value` lines (append them to $GITHUB_OUTPUT).
//
//   node scripts/ci/github.mjs ackers --pr 7
//       who set each acknowledgement label still on the pull request: `by=<rule>:<ws>=<login> ...`
//       (the last `labeled` event of each), for the plan comment and the plan's record.
//   node scripts/ci/github.mjs reviewed --sha <merged commit> [--workflow .github/workflows/plan.yml]
//       the pull request merged as that commit, its head, and the newest plan artifact uploaded
//       for exactly that head by a run of the trusted plan workflow (pull_request_target, so
//       the base branch's code). An artifact of any other run, e.g. one a pull request's own
//       `pull_request` workflow uploaded under the same name, is not taken.
//       Prints pr=, head=, artifact=, run-id= ; or refused=<why> (exit 0: the apply refuses).

import { args, github } from "./github-api.mjs";

async function* pages(path, pick = (x) => x) {
  for (let page = 1; ; page++) {
    const items = pick(await github(`${path}${path.includes("?") ? "&" : "?"}per_page=100&page=${page}`));
    yield* items;
    if (items.length < 100) return;
  }
}

function repo() {
  const r = process.env.GITHUB_REPOSITORY ?? "";
  if (!/^[\w.-]+\/[\w.-]+$/.test(r)) throw new Error(`GITHUB_REPOSITORY ${JSON.stringify(r)} is not owner/name`);
  return r;
}

const ACK_LABEL = /^acknowledge:([a-z0-9]+(?:-[a-z0-9]+)*:[a-z0-9]+(?:-[a-z0-9]+)*)$/;

export async function ackers(pr) {
  const r = repo();
  const current = new Set((await github(`/repos/${r}/issues/${pr}`)).labels?.map((l) => l.name) ?? []);
  const by = new Map();
  for await (const e of pages(`/repos/${r}/issues/${pr}/events`)) {
    const m = e.event === "labeled" && ACK_LABEL.exec(e.label?.name ?? "");
    if (m && current.has(e.label.name) && typeof e.actor?.login === "string") by.set(m[1], e.actor.login);
  }
  return by;
}

export async function reviewed(sha, workflow) {
  const r = repo();
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`--sha ${JSON.stringify(sha)} is not a commit SHA`);
  const pulls = await github(`/repos/${r}/commits/${sha}/pulls`);
  const pr = pulls.find((p) => p.merged_at && p.merge_commit_sha === sha);
  if (!pr) return { refused: `commit ${sha.slice(0, 12)} is not the merge of a pull request` };
  const head = pr.head?.sha;
  const name = `tenancy-plan-${pr.number}-${head}`;
  const found = [];
  for await (const a of pages(`/repos/${r}/actions/artifacts?name=${encodeURIComponent(name)}`, (x) => x.artifacts ?? [])) {
    if (a.name === name && !a.expired) found.push(a);
  }
  found.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  for (const a of found) {
    const run = await github(`/repos/${r}/actions/runs/${a.workflow_run?.id}`);
    if (run.path === workflow && run.event === "pull_request_target") {
      return { pr: pr.number, head, artifact: name, "run-id": run.id, "run-url": run.html_url };
    }
  }
  return { pr: pr.number, head, refused: `no plan artifact of ${workflow} for head ${head.slice(0, 12)} of #${pr.number}: the last push was never planned (or its artifact expired)` };
}

async function main(argv) {
  const opts = args(argv);
  const [command] = opts._;
  if (command === "ackers") {
    if (!/^\d+$/.test(opts.pr ?? "")) throw new Error("usage: github.mjs ackers --pr <number>");
    const by = await ackers(opts.pr);
    process.stdout.write(`by=${[...by].map(([ack, login]) => `${ack}=${login}`).join(" ")}\n`);
    return;
  }
  if (command === "reviewed") {
    if (!opts.sha) throw new Error("usage: github.mjs reviewed --sha <commit> [--workflow <path>]");
    const found = await reviewed(opts.sha, opts.workflow ?? ".github/workflows/plan.yml");
    for (const [k, v] of Object.entries(found)) process.stdout.write(`${k}=${String(v).replace(/[\r\n]/g, " ")}\n`);
    return;
  }
  throw new Error("usage: github.mjs ackers|reviewed ...");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`github: ${error.message}`);
    process.exitCode = 1;
  });
}
