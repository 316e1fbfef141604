# shellcheck shell=bash disable=all
# bad_checks.sh - input of the ctest lint.checks_catches: lint_checks must find exactly the
# four problems marked BAD here (and count nine checks).  Never run.
check "BAD: the second condition is not counted" [ "$A" = 1 ] && [ "$B" = 2 ]
check "BAD: piped into grep" jbody .x | grep -q y
check "BAD: continued on the next line" [ "$STATUS" = 200 ] && \
    grep -q 'still here' <<<"$BODY"
check "BAD: && at the end of the line" [ "$(jq -r '.a | length' <<<"$B")" = 2 ] &&
    echo "$(cat "$F" | wc -l)"
if ! check "fine: a condition" wait_for 10 has_child; then return; fi
check "fine: stop on failure" [ -n "$ID" ] || exit 1
check "fine: two checks" [ -n "$X" ] && check "fine: the second" [ -n "$Y" ]
x=$(check "fine: inside a substitution" true)
cat <<END
check "fine: a here-document" [ a ] && [ b ]
END
