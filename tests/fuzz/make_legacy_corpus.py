#!/usr/bin/env python3
# make_legacy_corpus.py - write the seed corpus of fuzz_legacy.c into corpus/legacy/.
#
# An independent implementation of the session id format of frontend/session.c
# ("s1." base64url(payload) "." base64url(HMAC-SHA256(HMAC-SHA256(key, label), payload)),
# a 44-byte payload: format, version code, capability bits, sha256("principal|" + who)[:16],
# issue time, expiry, nonce) and of the tasks/list cursor ("c1." base64url("us|task id")),
# with the fuzz target's fixed key, so the valid seeds prove the two agree.  Also writes
# "!"-seeds (payloads the target signs itself) and POST bodies of both eras.  Run it from
# anywhere; it rewrites only the seeds it names (fuzzer finds stay).
# SPDX-License-Identifier: Apache-2.0
import base64
import hashlib
import hmac
import os
import struct

KEY = b"taskwire-fuzz-sessn-key-32-bytes"
LABEL = b"taskwire/mcp-session-id/v1"
TASK = "01a200cc-5d93-48a9-ba90-df853b759f72"
LIVE = 2000000000  # after the target's fixed "now" (1800000000)
DEAD = 1700000000  # before it
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "legacy")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def payload(version=1, caps=0x15, who="alice", expires=LIVE, fmt=1) -> bytes:
    who_hash = hashlib.sha256(b"principal|" + who.encode()).digest()[:16]
    return (bytes([fmt, version]) + struct.pack(">H", caps) + who_hash +
            struct.pack(">qq", 1790000000, expires) + bytes(range(8)))


def sign(p: bytes) -> str:
    derived = hmac.new(KEY, LABEL, hashlib.sha256).digest()
    return "s1." + b64url(p) + "." + b64url(hmac.new(derived, p, hashlib.sha256).digest())


def cursor(us: int, task: str) -> str:
    return "c1." + b64url(f"{us}|{task}".encode())


CLAIM = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}'
SEEDS = [
    sign(payload()).encode(),
    sign(payload(version=2, caps=0)).encode(),
    sign(payload(expires=DEAD)).encode(),
    sign(payload(who="bob")).encode(),
    sign(payload(fmt=2)).encode(),
    sign(payload(version=9)).encode(),
    b"!" + payload(),
    b"!" + payload(version=2),
    b"!" + payload()[:20],
    cursor(1795000000123456, TASK).encode(),
    cursor(0, TASK).encode(),
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}',
    b'{"jsonrpc":"2.0","id":"tw:' + TASK.encode() + b':user_name","result":{"action":"accept"}}',
    b'{"jsonrpc":"2.0","id":"tw:' + TASK.encode() + b':k","error":{"code":-32601,"message":"x"}}',
    b'{"jsonrpc":"2.0","id":3,"method":"tasks/list"}',
    ('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo",' + CLAIM + '}}')
    .encode(),
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed in SEEDS:
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(seed)


if __name__ == "__main__":
    main()
