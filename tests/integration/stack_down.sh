#!/usr/bin/env bash
# Fixture cleanup: stop the test stack, then fail if any taskwire process
# logged a sanitizer report or a crash (ASan/UBSan/LSan write to stderr,
# which the stack keeps in its logs; they are archived before removal).
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
stack=$1
archive=${TASKWIRE_STACK_LOG_ARCHIVE:?}
rm -rf "$archive"
"$stack" down || exit 1
if [ -d "$archive" ] && grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' \
    "$archive"/frontend-*.log "$archive"/worker-*.log 2>/dev/null; then
    echo "sanitizer reports in the files above" >&2
    exit 1
fi
echo "1 passed, 0 failed"
