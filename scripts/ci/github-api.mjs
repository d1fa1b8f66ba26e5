// The GitHub REST calls and the argument parsing the CI scripts share (comment.mjs, github.mjs,
// audit-issue.mjs). GITHUB_API_URL points them at a mock API in the tests.

/** One REST call with the job's token; throws (with `status`) on any non-2xx answer. */
export async function github(path, init = {}) {
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
  if (!response.ok) {
    throw Object.assign(new Error(`GitHub API ${init.method ?? "GET"} ${path}: ${response.status} ${response.statusText}`), { status: response.status });
  }
  return response.json();
}

/** `--name value` pairs, and the rest as `_`. */
export function args(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
    else out._.push(argv[i]);
  }
  return out;
}
