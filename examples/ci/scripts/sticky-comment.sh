#!/bin/sh
# Post a plan as ONE pull-request (GitHub) or merge-request (GitLab) comment, updated in
# place on every push. The comment is found by the hidden marker line the plan's
# markdown carries (`<!-- apinizer-gitops plan ... -->`, the same for the same files and
# selection), among comments written by this pipeline's own user only.
#   sticky-comment.sh github MARKDOWN   needs GITHUB_API_URL, GITHUB_REPOSITORY,
#       PR_NUMBER, GITHUB_TOKEN (pull-requests: write); COMMENT_AUTHOR (default
#       github-actions[bot]) is the login whose comment is updated.
#   sticky-comment.sh gitlab MARKDOWN   needs CI_API_V4_URL, CI_PROJECT_ID,
#       CI_MERGE_REQUEST_IID, GITLAB_NOTE_TOKEN (a project access token, scope api).
# Needs curl and jq. Exit code 0 when posted, 1 otherwise.
set -eu
provider=$1
markdown=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

number() { case $2 in '' | *[!0-9]*) echo "$1 must be a number, not '$2'" >&2; exit 1 ;; esac; }

case $provider in
  github)
    number PR_NUMBER "$PR_NUMBER"
    api="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY"
    list="$api/issues/$PR_NUMBER/comments"
    item="$api/issues/comments"
    update=PATCH
    printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" > "$work/auth"
    author=${COMMENT_AUTHOR:-github-actions[bot]}
    mine='.user.login == $author'
    ;;
  gitlab)
    number CI_PROJECT_ID "$CI_PROJECT_ID"
    number CI_MERGE_REQUEST_IID "$CI_MERGE_REQUEST_IID"
    list="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
    item=$list
    update=PUT
    printf 'PRIVATE-TOKEN: %s\n' "$GITLAB_NOTE_TOKEN" > "$work/auth"
    author=$(curl -fsS -H @"$work/auth" "$CI_API_V4_URL/user" | jq -r '.id')
    number "the token's user id" "$author"
    mine='.author.id == ($author | tonumber)'
    ;;
  *) echo "usage: sticky-comment.sh github|gitlab MARKDOWN" >&2; exit 1 ;;
esac

# The marker from the markdown; a fixed one when the markdown carries none.
marker=$(grep -m1 -o '<!-- apinizer-gitops plan[^>]*-->' "$markdown" || true)
if [ -z "$marker" ]; then
  marker='<!-- apinizer-gitops plan -->'
  { echo "$marker"; cat "$markdown"; } > "$work/body"
else
  cat "$markdown" > "$work/body"
fi
jq -n --rawfile body "$work/body" '{body: $body}' > "$work/request.json"

# Page through the comments (100 a page, at most 50 pages) for ours with the marker.
id=
page=1
while [ -z "$id" ] && [ "$page" -le 50 ]; do
  curl -fsS -H @"$work/auth" "$list?per_page=100&page=$page" > "$work/page.json"
  id=$(jq -r --arg marker "$marker" --arg author "$author" \
    "first(.[] | select(($mine) and ((.body // \"\") | contains(\$marker))) | .id) // empty" \
    "$work/page.json")
  [ "$(jq 'length' "$work/page.json")" -lt 100 ] && break
  page=$((page + 1))
done

send() {
  curl -fsS -o /dev/null -X "$1" -H @"$work/auth" -H 'Content-Type: application/json' \
    --data-binary @"$work/request.json" "$2"
}
if [ -n "$id" ]; then
  number "the comment id" "$id"
  send "$update" "$item/$id"
  echo "Updated the plan comment ($id)."
else
  send POST "$list"
  echo "Posted the plan comment."
fi
