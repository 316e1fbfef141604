#!/usr/bin/env python3
# make_state_corpus.py - write the seed corpus of fuzz_state.c into corpus/state/.
#
# An independent implementation of the requestState format of frontend/state.c
# (base64url(payload) "." base64url(HMAC-SHA256(key, payload)), payload
# "v1|task|expiry|nonce|sha256hex(owner|method|tool|canonical args)"), with the
# fuzz target's fixed key, so the valid seeds prove the two agree.  Run it
# from anywhere; it rewrites only the seeds it names (fuzzer finds stay).
# SPDX-License-Identifier: Apache-2.0
import base64
import hashlib
import hmac
import json
import os

KEY = b"taskwire-fuzz-state-key-32-bytes"
TASK = "01a200cc-5d93-48a9-ba90-df853b759f72"
LIVE = 2000000000  # after the target's fixed "now" (1800000000)
DEAD = 1700000000  # before it
NONCE = "0011223344556677"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "state")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def digest(owner: str, args) -> str:
    canon = json.dumps(args, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{owner}|tools/call|greet|{canon}".encode()).hexdigest()


def payload(owner="alice", args=None, task=TASK, expires=LIVE) -> str:
    return f"v1|{task}|{expires}|{NONCE}|{digest(owner, {} if args is None else args)}"


def sign(p: str) -> str:
    mac = hmac.new(KEY, p.encode(), hashlib.sha256).digest()
    return b64url(p.encode()) + "." + b64url(mac)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    valid = sign(payload())
    with_args = sign(payload(args={"text": "hi", "n": 1}))
    mac_at = valid.index(".") + 1
    seeds = {
        "valid": valid,
        "valid-args": with_args + "\nalice\n" + '{"n":1,"text":"hi"}',
        "valid-args-other-order": with_args + "\nalice\n" + '{"text":"hi","n":1}',
        "expired": sign(payload(expires=DEAD)),
        "tampered-mac": valid[:mac_at] + ("B" if valid[mac_at] == "A" else "A") + valid[mac_at + 1:],
        "tampered-payload": ("B" if valid[0] == "A" else "A") + valid[1:],
        "wrong-owner": valid + "\nmallory",
        "wrong-args": with_args + "\nalice\n" + '{"n":1,"text":"bye"}',
        "truncated": valid[: len(valid) // 2],
        "truncated-mac": valid[:-3],
        "non-base64": "!!!!$$$$.%%%%&&&&",
        "padded-base64": valid.split(".")[0] + "==." + valid.split(".")[1],
        "no-dot": valid.replace(".", ""),
        "two-dots": valid + ".AAAA",
        "oversized": "A" * 1100 + "." + "A" * 43,
        "empty": "",
        "signed-valid": "!" + payload(),
        "signed-bad-version": "!" + payload().replace("v1|", "v2|", 1),
        "signed-bad-task": "!" + payload(task="not-a-task-id"),
        "signed-bad-expiry": "!" + payload().replace(f"|{LIVE}|", "|soon|"),
        "signed-huge-expiry": "!" + payload().replace(f"|{LIVE}|", "|99999999999999999999999|"),
        "signed-short": "!v1|" + TASK,
        "signed-expired": "!" + payload(expires=DEAD),
    }
    for name, text in seeds.items():
        with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)


if __name__ == "__main__":
    main()
