#!/usr/bin/env python3
"""otlp_receiver.py - a loopback OTLP/HTTP JSON collector for it.otlp.

Usage: otlp_receiver.py PORT OUT_FILE
Answers POST /v1/traces with 200 {} when the body is JSON with "resourceSpans", appending the
body as one line to OUT_FILE; anything else gets 400 (and is not kept).
SPDX-License-Identifier: Apache-2.0
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = self.path == "/v1/traces" and self.headers.get("Content-Type") == "application/json"
        try:
            ok = ok and "resourceSpans" in json.loads(body)
        except ValueError:
            ok = False
        if ok:
            with open(sys.argv[2], "ab") as f:
                f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
