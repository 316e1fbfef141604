#!/usr/bin/env bash
# stubborn.sh - an external-process tool for tests/fault/test_exttool_cancel.sh that ignores
# SIGTERM, and so does the child it starts: only the SIGKILL that follows killGraceMs stops
# them.  Reports one progress line, then waits for a long time.
# SPDX-License-Identifier: Apache-2.0
trap '' TERM
echo '{"progress": 0, "total": 1, "message": "ignoring SIGTERM"}'
sleep 600 &
wait
echo '{"result": {"content": [{"type": "text", "text": "should never get here"}]}}'
