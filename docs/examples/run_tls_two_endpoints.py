#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Runs docs/examples/tls_two_endpoints against two loopback TLS servers (Python's ssl module),
each serving exactly two connections, and checks its output document by document.
Usage: run_tls_two_endpoints.py EXAMPLE_BINARY MAKE_CERTS_SCRIPT"""
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

binary, make_certs = sys.argv[1], sys.argv[2]
LINES = {0: b"temp=21.5\nunit=C\n", 1: b"level=7\r\nalarm\n"}

with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(["bash", make_certs, tmp], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(Path(tmp, "server.pem"), Path(tmp, "server.key"))

    def serve(listener, payload):
        for _ in range(2):  # two connections, then the port is gone
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(payload)
                try:
                    tls.unwrap()  # close_notify: a clean end
                except (ssl.SSLError, OSError):
                    pass  # the client closed without answering close_notify, as clients may
        listener.close()

    ports, threads = [], []
    for i in (0, 1):
        listener = socket.create_server(("127.0.0.1", 0))
        ports.append(listener.getsockname()[1])
        threads.append(threading.Thread(target=serve, args=(listener, LINES[i]), daemon=True))
        threads[-1].start()
    run = subprocess.run([binary, str(Path(tmp, "ca.pem")), str(ports[0]), str(ports[1]), "2"],
                         capture_output=True, timeout=60)

if run.returncode != 0:
    sys.exit(f"example failed ({run.returncode}): {run.stderr.decode()}")
got = {0: [], 1: []}
sessions = {0: set(), 1: set()}
for line in run.stdout.decode().splitlines():
    doc = json.loads(line)
    i = ports.index(doc["source_port"])
    assert doc["source_host"] == "127.0.0.1", line
    got[i].append((doc["data"]["key"], doc["data"]["value"], doc["sequence"]))
    sessions[i].add(doc["session_id"])
want = {0: [("temp", "21.5", 1), ("unit", "C", 2)] * 2, 1: [("level", "7", 1), ("alarm", "", 2)] * 2}
for i in (0, 1):
    if got[i] != want[i] or len(sessions[i]) != 2:
        sys.exit(f"endpoint {i}: got {got[i]} in {len(sessions[i])} sessions, want {want[i]} in 2")
print(f"tls_two_endpoints: 8 documents from 2 endpoints x 2 connections, exact")
