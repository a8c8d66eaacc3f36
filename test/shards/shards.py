#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Issue 17: a capture of fifty endpoints split across shards, this test playing Flow's runtime.

  50 loopback servers (one thread, one listener each) -- each sends its own numbered lines,
  "ep17 000001\\n", "ep17 000002\\n", ...: 2000 at once on every new connection (each read then
  renders far more than one 64 KiB pipe write, while 50 endpoints do the same: their documents
  must still come out whole, one message per line), then 20 a second, the numbers going on
  across connections; and counts the connections it accepted.

  Phase 1: four source-socket processes in Flow mode, one `open` each with the same 50 bindings
  (binding i: resourceConfig {"stream": "ep<i>", "host": "127.0.0.1", "port": <server i>},
  stateKey "ep<i>.v1") and the key ranges that split [0, 2^32-1] in four. The owner of each
  binding is predicted from `source-socket key` (cross-checked here against an independent
  HighwayHash-64 with Estuary's key, the hash of source-boilerplate's RangeIncludesHwHash).
  Asserted: every binding's documents come from exactly its predicted shard; every server
  accepted exactly one connection (and the endpoint-level port, which every binding overrides,
  none); each binding's documents are one session whose lines are consecutive, in order, from the
  first line the server wrote on that connection, with the binding's own port as source_port;
  every checkpoint names only bindings its shard owns, and its `documents` totals count exactly
  the documents before it.

  Phase 2: the shard whose range halves both own bindings is stopped by closing its stdin (it
  must exit 0, its last line a checkpoint and every document checkpointed). Its committed state
  is the merge of its checkpoints (RFC 7396, as the runtime reduces them). Two shards start with
  the two halves of its range and that state, as Flow starts the children of a split. Asserted:
  the moved endpoints are captured by the half that owns them and by nothing else, their servers
  accepted exactly one more connection, after the old one had closed; the others still have
  their single connection on their first shard; each new session's lines are consecutive and
  come after the last line the stopped shard captured (nothing twice), and its checkpoints'
  `documents` carry on from the state. Meanwhile a fifth shard whose range holds no
  binding's hash must still be running after 2 s, having logged "this shard owns no endpoint"
  and dialed nothing; closing its stdin ends it with exit 0.

  Last, every shard is stopped (exit 0, last line a checkpoint), and each binding's final
  `documents` and `bytes` equal what its sessions emitted, across the split.

No acknowledgements: the connector does not ask for them here (no positions, no acks), and every
checkpoint counts as committed. Runs in about 5 s (11 s on a machine loaded with four copies and
two busy loops); every wait is bounded (STEP_TIMEOUT).
SHARDS_KEEP=1 keeps the logs and outputs in the temporary directory; SHARDS_BURST=N changes the
opening burst (0: none).
"""

import functools
import json
import os
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ENDPOINTS = 50
RATE = 20.0             # lines per second per open connection
BURST = int(os.environ.get('SHARDS_BURST', '2000'))  # lines each connection gets at once when it opens
MORE_DOCS = 20          # documents each binding must add in a phase after its burst
MIN_DOCS = BURST + MORE_DOCS  # documents a new session must reach before it is judged
STEP_TIMEOUT = 15.0     # seconds for any one wait
FULL = 0xFFFFFFFF

# Estuary's key for RangeIncludesHwHash (estuary/connectors source-boilerplate/boilerplate.go).
ESTUARY_KEY = bytes.fromhex('332757d16f0fb1cf2d4f676f85e34c6a8b85aa58f42bb081449d8eb2e4ed529f')

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
from testsupport import Failure, merge_patch, read  # noqa: E402 (after the path)
import testsupport  # noqa: E402

deadline_wait = functools.partial(testsupport.deadline_wait, timeout=STEP_TIMEOUT)


# --------------------------------------------------------------------------------------------
# HighwayHash-64, portable version of Google's reference (c/highwayhash.c), which Go's
# minio/highwayhash (what Estuary's connectors use) reproduces. Checked below against the
# reference's published vectors before it is trusted.

M64 = (1 << 64) - 1


def _zipper_merge(v1, v0):
    add0 = ((((v0 & 0xff000000) | (v1 & 0xff00000000)) >> 24) |
            (((v0 & 0xff0000000000) | (v1 & 0xff000000000000)) >> 16) |
            (v0 & 0xff0000) | ((v0 & 0xff00) << 32) |
            ((v1 & 0xff00000000000000) >> 8) | ((v0 << 56) & M64))
    add1 = ((((v1 & 0xff000000) | (v0 & 0xff00000000)) >> 24) |
            (v1 & 0xff0000) | ((v1 & 0xff0000000000) >> 16) |
            ((v1 & 0xff00) << 24) | ((v0 & 0xff000000000000) >> 8) |
            ((v1 & 0xff) << 48) | (v0 & 0xff00000000000000))
    return add1, add0


def _update(st, lanes):
    v0, v1, mul0, mul1 = st
    for i in range(4):
        v1[i] = (v1[i] + mul0[i] + lanes[i]) & M64
        mul0[i] ^= (v1[i] & 0xffffffff) * (v0[i] >> 32)
        v0[i] = (v0[i] + mul1[i]) & M64
        mul1[i] ^= (v0[i] & 0xffffffff) * (v1[i] >> 32)
    for dst, src in ((v0, v1), (v1, v0)):
        for lo in (0, 2):
            add1, add0 = _zipper_merge(src[lo + 1], src[lo])
            dst[lo + 1] = (dst[lo + 1] + add1) & M64
            dst[lo] = (dst[lo] + add0) & M64


def _rot64_32(x):
    return ((x >> 32) | (x << 32)) & M64


def highwayhash64(data, key):
    k = struct.unpack('<4Q', key)
    mul0 = [0xdbe6d5d5fe4cce2f, 0xa4093822299f31d0, 0x13198a2e03707344, 0x243f6a8885a308d3]
    mul1 = [0x3bd39e10cb0ef593, 0xc0acf169b5f18a8c, 0xbe5466cf34e90c6c, 0x452821e638d01377]
    v0 = [mul0[i] ^ k[i] for i in range(4)]
    v1 = [mul1[i] ^ _rot64_32(k[i]) for i in range(4)]
    st = (v0, v1, mul0, mul1)
    whole = len(data) - len(data) % 32
    for off in range(0, whole, 32):
        _update(st, struct.unpack_from('<4Q', data, off))
    size = len(data) - whole
    if size:
        tail = data[whole:]
        for i in range(4):
            v0[i] = (v0[i] + (size << 32) + size) & M64
            lo, hi = v1[i] & 0xffffffff, v1[i] >> 32
            rot = lambda h: ((h << size) | (h >> (32 - size))) & 0xffffffff  # noqa: E731
            v1[i] = rot(lo) | (rot(hi) << 32)
        packet = bytearray(32)
        mod4 = size & 3
        packet[:size & ~3] = tail[:size & ~3]
        rest = tail[size & ~3:]
        if size & 16:
            for i in range(4):
                packet[28 + i] = tail[(size & ~3) + i + mod4 - 4]
        elif mod4:
            packet[16], packet[17], packet[18] = rest[0], rest[mod4 >> 1], rest[mod4 - 1]
        _update(st, struct.unpack('<4Q', packet))
    for _ in range(4):
        _update(st, [_rot64_32(v0[2]), _rot64_32(v0[3]), _rot64_32(v0[0]), _rot64_32(v0[1])])
    return (v0[0] + v1[0] + mul0[0] + mul1[0]) & M64


# The reference's kExpected64: key bytes 00..1f, input bytes 00..n-1 for n = 0..35 (every
# remainder branch, one whole packet, a packet plus remainders); and its two key {1, 2, 3, 4}
# cases.
VECTORS_KEY1 = [
    0x907A56DE22C26E53, 0x7EAB43AAC7CDDD78, 0xB8D0569AB0B53D62, 0x5C6BEFAB8A463D80,
    0xF205A46893007EDA, 0x2B8A1668E4A94541, 0xBD4CCC325BEFCA6F, 0x4D02AE1738F59482,
    0xE1205108E55F3171, 0x32D2644EC77A1584, 0xF6E10ACDB103A90B, 0xC3BBF4615B415C15,
    0x243CC2040063FA9C, 0xA89A58CE65E641FF, 0x24B031A348455A23, 0x40793F86A449F33B,
    0xCFAB3489F97EB832, 0x19FE67D2C8C5C0E2, 0x04DD90A69C565CC2, 0x75D9518E2371C504,
    0x38AD9B1141D3DD16, 0x0264432CCD8A70E0, 0xA9DB5A6288683390, 0xD7B05492003F028C,
    0x205F615AEA59E51E, 0xEEE0C89621052884, 0x1BFC1A93A7284F4F, 0x512175B5B70DA91D,
    0xF71F8976A0A2C639, 0xAE093FEF1F84E3E7, 0x22CA92B01161860F, 0x9FC7007CCF035A68,
    0xA0C964D9ECD580FC, 0x2C90F73CA03181FC, 0x185CF84E5691EB9E, 0x4FC1F5EF2752AA9B,
]


def check_highwayhash():
    key1 = bytes(range(32))
    for n, want in enumerate(VECTORS_KEY1):
        got = highwayhash64(bytes(range(n)), key1)
        if got != want:
            raise Failure(f'the test\'s own HighwayHash is wrong: length {n}: {got:#018x}, expected {want:#018x}')
    key1234 = struct.pack('<4Q', 1, 2, 3, 4)
    for data, want in ((bytes(128 + i for i in range(33)), 0x53c516cce478cad7), (b'\xff', 0x7858f24d2d79b2b2)):
        got = highwayhash64(data, key1234)
        if got != want:
            raise Failure(f'the test\'s own HighwayHash is wrong for key 1,2,3,4: {got:#018x}, expected {want:#018x}')


def key_hash(state_key):
    return highwayhash64(state_key.encode(), ESTUARY_KEY) >> 32


# --------------------------------------------------------------------------------------------
# The fifty servers, one thread.

class Connection:
    def __init__(self, endpoint, sock, peer):
        self.endpoint, self.sock, self.peer = endpoint, sock, peer
        self.accepted_at = time.monotonic()
        self.closed_at = None
        self.first = None    # number of the first line written on this connection
        self.last = None     # and of the last
        self.pending = b''


class Servers:
    """ENDPOINTS listeners plus a decoy (the endpoint config's own port, which no binding uses).
    A new connection first gets BURST lines in one write (so that many endpoints' reads render
    more output than one pipe write at the same time), then every RATE-th of a second each open
    connection gets its endpoint's next line; the numbers go on across that endpoint's
    connections."""

    def __init__(self, n):
        self.n = n
        self.sel = selectors.DefaultSelector()
        self.ports = []
        self.listeners = []
        for i in range(n + 1):  # the last one is the decoy
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('127.0.0.1', 0))
            s.listen(8)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, ('listener', i))
            self.listeners.append(s)
            self.ports.append(s.getsockname()[1])
        self.decoy_port = self.ports.pop()
        self.connections = [[] for _ in range(n + 1)]
        self.next_line = [1] * n
        self.lock = threading.Lock()
        self.errors = []
        self.stopping = False
        self.thread = threading.Thread(target=self._guarded, daemon=True)
        self.thread.start()

    def snapshot(self, i):
        """[(accepted_at, closed_at, first, last)] of endpoint i's connections."""
        with self.lock:
            return [(c.accepted_at, c.closed_at, c.first, c.last) for c in self.connections[i]]

    def decoy_connections(self):
        with self.lock:
            return len(self.connections[self.n])

    def _guarded(self):
        try:
            self._run()
        except Exception as e:  # reported by main(), never swallowed
            with self.lock:
                self.errors.append(f'servers: {type(e).__name__}: {e}')

    def _close(self, c):
        if c.closed_at is None:
            c.closed_at = time.monotonic()
            self.sel.unregister(c.sock)
            c.sock.close()

    def _send(self, c, data):
        c.pending += data
        try:
            sent = c.sock.send(c.pending)
            c.pending = c.pending[sent:]
        except BlockingIOError:
            pass
        except OSError:
            self._close(c)

    def _run(self):
        next_tick = time.monotonic()
        while not self.stopping:
            for key, _ in self.sel.select(max(0.0, next_tick - time.monotonic())):
                kind, obj = key.data
                if kind == 'listener':
                    try:
                        sock, peer = key.fileobj.accept()
                    except BlockingIOError:
                        continue
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    c = Connection(obj, sock, peer)
                    with self.lock:
                        self.connections[obj].append(c)
                    self.sel.register(sock, selectors.EVENT_READ, ('conn', c))
                else:
                    try:
                        data = obj.sock.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b''
                    if not data:  # the connector closed it (or reset it)
                        with self.lock:
                            self._close(obj)
            if time.monotonic() >= next_tick:
                next_tick += 1.0 / RATE
                with self.lock:
                    for i in range(self.n):
                        for c in self.connections[i]:
                            if c.closed_at is not None:
                                continue
                            count = BURST if c.first is None else 1
                            number = self.next_line[i]
                            self.next_line[i] += count
                            if c.first is None:
                                c.first = number
                            c.last = number + count - 1
                            self._send(c, ''.join(f'ep{i} {k:06d}\n' for k in range(number, number + count)).encode())

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        with self.lock:
            for conns in self.connections:
                for c in conns:
                    if c.closed_at is None:
                        c.sock.close()
            for s in self.listeners:
                s.close()


# --------------------------------------------------------------------------------------------
# The connector processes, and this test as their runtime.

def binding_spec(i, port):
    return {'resourceConfig': {'stream': f'ep{i}', 'host': '127.0.0.1', 'port': port},
            'resourcePath': [f'ep{i}'],
            'collection': {'name': f'acmeCo/ep{i}', 'writeSchema': {'type': 'object'},
                           'key': ['/session_id', '/sequence']},
            'backfill': 1, 'stateKey': f'ep{i}.v1'}


def open_request(servers, key_begin, key_end, state):
    rng = {'keyEnd': key_end, 'rClockEnd': FULL}
    if key_begin:  # Flow leaves out fields at their default, 0 here
        rng['keyBegin'] = key_begin
    config = {'host': '127.0.0.1', 'port': servers.decoy_port, 'codec': 'line',
              'reconnect_delay': 0.2, 'connection_timeout': 5}
    return json.dumps({'open': {
        'capture': {'name': 'acmeCo/fifty', 'connectorType': 'IMAGE', 'config': config,
                    'bindings': [binding_spec(i, p) for i, p in enumerate(servers.ports)],
                    'intervalSeconds': 300},
        'version': '17', 'range': rng, 'state': state}}) + '\n'


class Shard:
    """One connector process. Its stdout is read by a thread into `messages`: ('doc', binding,
    doc) and ('checkpoint', state) in the order written."""

    def __init__(self, tmp, name, servers, key_begin, key_end, state):
        self.name, self.key_begin, self.key_end = name, key_begin, key_end
        self.log_path = os.path.join(tmp, f'{name}.log')
        self.out = open(os.path.join(tmp, f'{name}.out'), 'wb')
        self.log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen([os.environ['SOURCE_SOCKET']], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=dict(os.environ, LOG_LEVEL='info'))
        self.lock = threading.Lock()
        self.messages = []
        self.first_line = None
        self.errors = []
        self.stopped = False  # its stdin was closed on purpose
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.proc.stdin.write(open_request(servers, key_begin, key_end, state).encode())
        self.proc.stdin.flush()

    def __str__(self):
        return f'{self.name} [{self.key_begin:#010x}, {self.key_end:#010x}]'

    def _read(self):
        for raw in self.proc.stdout:
            self.out.write(raw)
            try:
                m = json.loads(raw)
            except ValueError:
                m = None
            with self.lock:
                if self.first_line is None:
                    self.first_line = m if m is not None else raw
                    continue
                if isinstance(m, dict) and len(m) == 1 and 'captured' in m:
                    self.messages.append(('doc', m['captured'].get('binding', 0), m['captured'].get('doc')))
                elif isinstance(m, dict) and len(m) == 1 and 'checkpoint' in m:
                    self.messages.append(('checkpoint', m['checkpoint'].get('state')))
                elif raw.find(b'{"captured":', 1) >= 0 or raw.find(b'{"checkpoint":', 1) >= 0 or m is None:
                    self.errors.append(f'{self.name}: a line on stdout that is not one whole message (the output '
                                       f'of several endpoints interleaved?), {len(raw)} bytes: {raw[:400]!r} ... '
                                       f'{raw[-200:]!r}')
                else:
                    self.errors.append(f'{self.name}: unexpected message on stdout: {raw[:300]!r}')
        self.out.flush()

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def docs(self, binding=None):
        return [(m[1], m[2]) for m in self.snapshot() if m[0] == 'doc' and (binding is None or m[1] == binding)]

    def stop(self, timeout=STEP_TIMEOUT):
        """Closes stdin, as the runtime ends a session; returns the exit status."""
        self.stopped = True
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f'{self} did not exit within {timeout:.0f} s of its stdin closing')
        self.thread.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(5)
        self.out.close()
        self.log.close()


def predicted_hashes(n):
    """`source-socket key` for every stateKey, checked against this test's own hash."""
    keys = [f'ep{i}.v1' for i in range(n)]
    r = subprocess.run([os.environ['SOURCE_SOCKET'], 'key'] + keys, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise Failure(f'source-socket key exited {r.returncode}: {r.stderr.strip()[-500:]}')
    lines = r.stdout.splitlines()
    if len(lines) != n:
        raise Failure(f'source-socket key printed {len(lines)} lines for {n} keys: {r.stdout[:500]!r}')
    hashes = []
    for key, line in zip(keys, lines):
        parts = line.split(' ', 1)
        if len(parts) != 2 or parts[1] != key:
            raise Failure(f'source-socket key: expected "<hash> {key}", got {line!r}')
        h = int(parts[0], 16) if parts[0].startswith('0x') else int(parts[0], 10)
        want = key_hash(key)
        if h != want:
            raise Failure(f'source-socket key {key} = {h:#010x}, but HighwayHash-64 with Estuary\'s key, '
                          f'high 32 bits, is {want:#010x}')
        hashes.append(h)
    return hashes


def owner_of(shards, h):
    owners = [s for s in shards if s.key_begin <= h <= s.key_end]
    if len(owners) != 1:
        raise Failure(f'{h:#010x} is in the range of {len(owners)} shards: the ranges do not split the space')
    return owners[0]


def check_no_errors(servers, shards):
    errors = list(servers.errors)
    for s in shards:
        errors += s.errors
        if s.proc.poll() is not None and not s.stopped:
            errors.append(f'{s} exited with {s.proc.returncode} on its own')
        if s.first_line is not None and s.first_line != {'opened': {}}:
            errors.append(f'{s}: expected {{"opened":{{}}}} first, got {s.first_line!r}')
    if errors:
        raise Failure('; '.join(errors[:2]) + (f' (and {len(errors) - 2} more)' if len(errors) > 2 else ''))


def check_session(shard, i, docs, conn, port, after_line=None):
    """`docs` of binding i on `shard` are one session over server connection `conn`: sequence
    1, 2, ..., lines consecutive from the connection's first line; the last may be a partial
    line (the capture stopped in the middle of it)."""
    _, _, first, last = conn
    if not docs:
        raise Failure(f'ep{i}: no documents on {shard}')
    sessions = {d.get('session_id') for d in docs}
    if len(sessions) != 1:
        raise Failure(f'ep{i} on {shard}: expected one session, got {len(sessions)}: {sorted(map(str, sessions))}')
    for k, d in enumerate(docs):
        want = f'ep{i} {first + k:06d}'
        value = (d.get('data') or {}).get('value')
        if d.get('sequence') != k + 1 or d.get('source_port') != port:
            raise Failure(f'ep{i} on {shard}: document {k + 1} should have sequence {k + 1} and source_port {port}: '
                          f'{json.dumps(d)}')
        if d.get('partial'):
            if k != len(docs) - 1 or not want.startswith(value or '\0'):
                raise Failure(f'ep{i} on {shard}: unexpected partial document {k + 1} {value!r} (line {want!r})')
        elif value != want or d.get('raw') != want:
            raise Failure(f'ep{i} on {shard}: document {k + 1} is {value!r}, expected {want!r} '
                          f'(lines go on from {first}, the first the server wrote on this connection)')
    if first + len(docs) - 1 > last:
        raise Failure(f'ep{i} on {shard}: {len(docs)} documents, but the server wrote only lines {first}..{last}')
    if after_line is not None and first <= after_line:
        raise Failure(f'ep{i}: the new session starts at line {first}, not after {after_line} (captured twice)')


def check_checkpoints(shard, owned, base):
    """Every checkpoint names only owned bindings, and its `documents` total is the state's
    (`base`) plus the documents of that binding written before it on this shard."""
    counts = {i: 0 for i in owned}
    seen = set()
    for kind, *rest in shard.snapshot():
        if kind == 'doc':
            b = rest[0]
            if b not in counts:
                raise Failure(f'{shard} captured binding {b} (ep{b}), which it does not own')
            counts[b] += 1
            continue
        state = rest[0] or {}
        updated = state.get('updated')
        if not isinstance(updated, dict):
            raise Failure(f'{shard}: a checkpoint without state.updated: {json.dumps(state)}')
        for key, entry in (updated.get('bindingStateV1') or {}).items():
            i = int(key[2:-3]) if key.startswith('ep') and key.endswith('.v1') and key[2:-3].isdigit() else None
            if i not in counts:
                raise Failure(f'{shard}: checkpoint for {key}, a binding it does not own: {json.dumps(updated)}')
            want = base.get(i, {}).get('documents', 0) + counts[i]
            if entry.get('documents') != want:
                raise Failure(f'{shard}: checkpoint for {key} says documents {entry.get("documents")}, expected '
                              f'{want} ({base.get(i, {}).get("documents", 0)} from the state + {counts[i]} here)')
            seen.add(i)
    return seen


def committed_state(shard):
    state = {}
    for kind, *rest in shard.snapshot():
        if kind == 'checkpoint':
            st = rest[0]
            state = merge_patch(state, st['updated']) if st.get('mergePatch') else st['updated']
    return state


def binding_states(state):
    return {int(k[2:-3]): v for k, v in (state.get('bindingStateV1') or {}).items()}


def check_stopped(shard):
    """Stops a shard; it must exit 0 with every document checkpointed."""
    rc = shard.stop()
    if rc != 0:
        raise Failure(f'{shard} exited with {rc} after its stdin closed; log: {read(shard.log_path)[-1500:]}')
    msgs = shard.snapshot()
    if msgs and msgs[-1][0] != 'checkpoint':
        raise Failure(f'{shard}: its last output after the stop is a document, not a checkpoint')


def run(tmp):
    check_highwayhash()
    hashes = predicted_hashes(ENDPOINTS)
    servers = Servers(ENDPOINTS)
    shards = []
    try:
        return scenario(tmp, servers, hashes, shards)
    finally:
        for s in shards:
            s.kill()
        servers.stop()


def scenario(tmp, servers, hashes, shards):
    quarter = 1 << 30
    first_four = [Shard(tmp, f'shard{k}', servers, k * quarter, (k + 1) * quarter - 1, {}) for k in range(4)]
    shards += first_four
    owners = [owner_of(first_four, h) for h in hashes]
    owned = {s: [i for i in range(ENDPOINTS) if owners[i] is s] for s in first_four}

    # Phase 1: every binding captured, by its owner only.
    def progress():
        check_no_errors(servers, shards)
        for s in first_four:
            for b, _ in s.docs():
                if owners[b] is not s:
                    raise Failure(f'ep{b} (hash {hashes[b]:#010x}) was captured by {s}; {owners[b]} owns it')
        return all(len(owners[i].docs(i)) >= MIN_DOCS for i in range(ENDPOINTS))
    deadline_wait(lambda: f'{MIN_DOCS} documents of every binding; short: ' + ', '.join(
        f'ep{i} {len(owners[i].docs(i))}' for i in range(ENDPOINTS) if len(owners[i].docs(i)) < MIN_DOCS), progress)
    for i in range(ENDPOINTS):
        docs = [d for _, d in owners[i].docs(i)]  # before the server's count, which only grows
        conns = servers.snapshot(i)
        if len(conns) != 1:
            raise Failure(f'ep{i}: its server accepted {len(conns)} connections, expected 1 (from {owners[i]})')
        check_session(owners[i], i, docs, conns[0], servers.ports[i])
    for s in first_four:
        check_checkpoints(s, owned[s], {})
    if servers.decoy_connections():
        raise Failure('the endpoint config\'s own port was dialed, though every binding names its port')
    phase1 = f'{ENDPOINTS} endpoints on 4 shards (' + '/'.join(str(len(owned[s])) for s in first_four) + ')'

    # Phase 2: split the first shard whose two halves both own bindings.
    def halves(s):
        mid = s.key_begin + (s.key_end - s.key_begin) // 2
        return (s.key_begin, mid), (mid + 1, s.key_end)
    victim = next((s for s in first_four
                   if all(any(lo <= hashes[i] <= hi for i in owned[s]) for lo, hi in halves(s))), None)
    if victim is None:
        raise Failure('no shard has bindings in both halves of its range: change ENDPOINTS')
    check_stopped(victim)
    state = committed_state(victim)
    moved = owned[victim]
    # Its connections are closed (it exited); the servers' bookkeeping sees it before a new shard starts.
    deadline_wait('the servers to see the stopped shard\'s connections close',
                  lambda: all(servers.snapshot(i)[0][1] is not None for i in moved))
    before = binding_states(state)
    if sorted(before) != moved:
        raise Failure(f'{victim}: its committed state names bindings {sorted(before)}, expected {moved}')
    old = {}
    for i in moved:
        docs = [d for _, d in victim.docs(i)]
        check_session(victim, i, docs, servers.snapshot(i)[0], servers.ports[i])
        last = docs[-1]
        if (before[i].get('documents'), before[i].get('sequence'), before[i].get('session_id')) != \
                (len(docs), last['sequence'], last['session_id']):
            raise Failure(f'ep{i}: the stopped shard\'s state {before[i]} does not name its last document '
                          f'(#{len(docs)}, sequence {last["sequence"]}, session {last["session_id"]})')
        old[i] = (docs, last['session_id'])
    (lo1, hi1), (lo2, hi2) = halves(victim)
    half_a = Shard(tmp, 'half-a', servers, lo1, hi1, state)
    half_b = Shard(tmp, 'half-b', servers, lo2, hi2, state)
    # A range between two neighbouring hashes (the widest such gap) owns nothing.
    points = sorted(set(hashes))
    gaps = [(points[k] + 1, points[k + 1] - 1) for k in range(len(points) - 1)]
    empty_lo, empty_hi = max(gaps, key=lambda g: g[1] - g[0])
    empty = Shard(tmp, 'empty', servers, empty_lo, empty_hi, state)
    shards += [half_a, half_b, empty]
    survivors = [s for s in first_four if s is not victim]
    new_owners = {i: owner_of([half_a, half_b], hashes[i]) for i in moved}
    base = {i: len(owners[i].docs(i)) for i in range(ENDPOINTS) if i not in moved}
    empty_started = time.monotonic()

    def progress2():
        check_no_errors(servers, shards)
        for s in survivors + [half_a, half_b, empty]:
            for b, _ in s.docs():
                if new_owners.get(b, owners[b]) is not s:
                    raise Failure(f'ep{b} (hash {hashes[b]:#010x}) was captured by {s}, which does not own it')
        return all(len(new_owners[i].docs(i)) >= MIN_DOCS for i in moved) and \
            all(len(owners[i].docs(i)) >= base[i] + MORE_DOCS for i in base) and \
            time.monotonic() - empty_started >= 2.0
    deadline_wait(lambda: f'{MIN_DOCS} documents of every moved binding on its new shard and {MORE_DOCS} more of '
                  'the others, and 2 s of the empty shard', progress2)
    if empty.proc.poll() is not None:
        raise Failure(f'{empty} exited with {empty.proc.returncode} instead of staying up; '
                      f'log: {read(empty.log_path)[-1500:]}')
    no_endpoint = [json.loads(l) for l in read(empty.log_path).splitlines()
                   if l.startswith('{') and '"this shard owns no endpoint"' in l]
    if not no_endpoint or no_endpoint[0].get('msg') != 'this shard owns no endpoint':
        raise Failure(f'{empty} did not log {{"msg":"this shard owns no endpoint"}}; log: {read(empty.log_path)[-1500:]}')
    if empty.snapshot():
        raise Failure(f'{empty} wrote {len(empty.snapshot())} messages after opened; it owns nothing')
    for i in range(ENDPOINTS):
        owner = new_owners.get(i, owners[i])
        docs = [d for _, d in owner.docs(i)]  # before the server's count, which only grows
        conns = servers.snapshot(i)
        if i in moved:
            if len(conns) != 2:
                raise Failure(f'ep{i}: moved to {new_owners[i]}; its server accepted {len(conns)} connections, '
                              'expected 2 (the stopped shard\'s, then the new owner\'s)')
            if conns[0][1] is None or conns[0][1] > conns[1][0]:
                raise Failure(f'ep{i}: the new connection was accepted before the stopped shard\'s had closed')
            old_docs, old_session = old[i]
            check_session(owner, i, docs, conns[1], servers.ports[i], after_line=conns[0][2] + len(old_docs) - 1)
            if docs[0]['session_id'] == old_session:
                raise Failure(f'ep{i}: the new session reuses the stopped shard\'s session_id')
        else:
            if len(conns) != 1 or conns[0][1] is not None:
                raise Failure(f'ep{i}: expected its one connection from {owners[i]} still open, got {conns}')
            check_session(owner, i, docs, conns[0], servers.ports[i])
    for half in (half_a, half_b):
        mine = [i for i in moved if new_owners[i] is half]
        seen = check_checkpoints(half, mine, before)
        if seen != set(mine):
            raise Failure(f'{half}: no checkpoint for {sorted(set(mine) - seen)}')
    rc = empty.stop()
    if rc != 0:
        raise Failure(f'{empty} exited with {rc} after its stdin closed')
    if servers.decoy_connections():
        raise Failure('the endpoint config\'s own port was dialed')
    phase2 = (f'{victim.name} stopped and split: {len(moved)} endpoints moved '
              f'({sum(new_owners[i] is half_a for i in moved)} to half-a, {sum(new_owners[i] is half_b for i in moved)} '
              'to half-b) with their totals carried on; the empty range stayed up 2 s')

    # The end: every shard stops cleanly, and the final totals are exactly what was emitted.
    live = survivors + [half_a, half_b]
    for s in live:
        check_stopped(s)
    final = {}
    for s in live:
        final.update(binding_states(committed_state(s)))
    lost = 0
    for i in range(ENDPOINTS):
        sessions = [owners[i]] if i not in moved else [victim, new_owners[i]]
        docs = [d for s in sessions for _, d in s.docs(i)]
        want_bytes = sum(len(d['raw'].encode()) + (0 if d.get('partial') else 1) for d in docs)
        got = final.get(i, {})
        if (got.get('documents'), got.get('bytes')) != (len(docs), want_bytes):
            raise Failure(f'ep{i}: final state says {got.get("documents")} documents, {got.get("bytes")} bytes; '
                          f'its sessions emitted {len(docs)} documents of {want_bytes} bytes')
        if i in moved:
            lost += servers.snapshot(i)[1][2] - (servers.snapshot(i)[0][2] + len(old[i][0]))
    return (f'{phase1}; {phase2}; all stopped with exit 0 and exact totals '
            f'({lost} lines in flight when {victim.name} stopped were never captured: the at-most-once window)')


def main():
    if 'SOURCE_SOCKET' not in os.environ:
        print('FAIL: SOURCE_SOCKET is not set (run through meson test)')
        return 1
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix='socketcap-shards-')
    try:
        summary = run(tmp)
        print(f'ok   shards: {summary} ({time.monotonic() - start:.1f} s)')
        if os.environ.get('SHARDS_KEEP'):
            print(f'     (files kept in {tmp})')
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        return 0
    except Exception as e:
        print(f'FAIL shards ({time.monotonic() - start:.1f} s): '
              f'{"" if isinstance(e, Failure) else type(e).__name__ + ": "}{e}')
        for name in sorted(os.listdir(tmp)):
            if name.endswith('.log'):
                text = read(os.path.join(tmp, name))
                print(f'--- {name} (last 1500 characters)\n{text[-1500:]}')
        print(f'(files kept in {tmp})')
        return 1


if __name__ == '__main__':
    sys.exit(main())
