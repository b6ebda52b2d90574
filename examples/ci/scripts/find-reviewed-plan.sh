#!/bin/sh
# On a push to the default branch: find the pull-request run whose saved plan was
# reviewed for this commit, and write `run-id=N` and `pr=N` to GITHUB_OUTPUT for
# actions/download-artifact. The pull request is the merged one that contains
# GITHUB_SHA; its run is the newest successful run of PLAN_WORKFLOW (the workflow file's
# path, e.g. .github/workflows/apinizer-gitops.yml) on its head commit.
#   Needs GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_TOKEN (actions: read,
#   pull-requests: read), PLAN_WORKFLOW, GITHUB_OUTPUT; curl and jq.
# Exit code 1, naming why, when there is no reviewed plan (a direct push, or the
# pull-request run failed or expired): nothing unreviewed is applied.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" > "$work/auth"
api="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY"
get() { curl -fsS -H @"$work/auth" -H 'Accept: application/vnd.github+json' "$1"; }

get "$api/commits/$GITHUB_SHA/pulls" > "$work/pulls.json"
jq -r 'first(.[] | select(.merged_at != null) | "\(.number) \(.head.sha)") // empty' \
  "$work/pulls.json" > "$work/pull"
read -r pr head < "$work/pull" || { echo "no merged pull request contains $GITHUB_SHA: no reviewed plan to apply" >&2; exit 1; }
case "$pr:$head" in *[!0-9a-f:]* | :* | *:) echo "unexpected pull request data" >&2; exit 1 ;; esac

get "$api/actions/runs?head_sha=$head&event=pull_request&status=success&per_page=100" > "$work/runs.json"
run=$(jq -r --arg path "$PLAN_WORKFLOW" \
  'first(.workflow_runs | sort_by(-.run_number)[] | select(.path == $path) | .id) // empty' \
  "$work/runs.json")
case $run in
  '' ) echo "pull request #$pr has no successful $PLAN_WORKFLOW run on $head: no reviewed plan to apply" >&2; exit 1 ;;
  *[!0-9]*) echo "unexpected run id" >&2; exit 1 ;;
esac
echo "Applying the plan reviewed in pull request #$pr (run $run, commit $head)."
{ echo "run-id=$run"; echo "pr=$pr"; } >> "$GITHUB_OUTPUT"
