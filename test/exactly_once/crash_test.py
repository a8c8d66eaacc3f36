#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Issue 16's proof: exactly-once into Flow from servers that can resend, across SIGKILLs.

A simulated Flow runtime drives source-socket through the capture protocol and kills it with
SIGKILL at random moments, restarting it each time from the state it committed; a simulated server
on loopback holds a fixed log of M messages. The test passes when the documents the runtime
committed, deduplicated by the collection key /position as Flow would, are exactly the server's log.

The runtime plays the protocol honestly (../shared/docs/flow-protocol.md §2-3):
  - it starts the connector (SOURCE_SOCKET, LOG_LEVEL=info) and writes `open` with the last
    COMMITTED state; the first line back must be {"opened":{"explicitAcknowledgements":true}};
  - it reads `captured` and `checkpoint` lines; documents belong to the checkpoint that follows
    them. Transactions are pipelined as Flow's are: checkpoints fill the open transaction until it
    holds 1..4 of them (random) or the connector is quiet for 5 ms; it then closes and commits
    after a random latency of 0 to 200 ms while the next one fills. Committing applies each
    checkpoint's merge patch (RFC 7386) to the committed state and adds the documents to the
    committed store, THEN writes {"acknowledge":{"checkpoints":k}};
  - a torn last line (the connector died mid-write) is dropped, as the runtime would fail it.
It kills the connector at one of these moments, in turn (each round of five in a random order),
once the run has reached its share of the log (kill i of N when about i*M/(N+1) positions are
committed or under way, at least 1-20 documents into the run):
  before_commit           a transaction is ready; killed instead of committing (its documents are lost
                          to Flow, the server must send them again)
  between_commit_and_ack  committed, killed before the acknowledge is written (committed, never acked)
  after_ack               the acknowledge is written, killed 0-5 ms later (the ack to the server may
                          or may not leave)
  mid_frame               the server has written half a line and holds the rest
  anytime                 a random 0-50 ms later, whatever is happening (stdout half written, ...)
  idle                    (fallback when the moment above cannot come, e.g. the log is all sent)
Each kill is followed by a restart from the committed state; after the last kill the connector
runs until the whole log is committed (and, for `retransmit`, acknowledged to the server), or
until it has been quiet for 3 s after the server sent it everything (then the verdict says what
is missing); then stdin is closed and it must exit 0.

Servers (one connection at a time: a new connection replaces the old one), and a relay for a
real HL7 sender; the brief's two kinds first, then three that cover the other position and ack
settings the same way:
  seq         reads "RESUME <n>\\n" on each connection, then sends "<n> <payload>\\n" onwards.
              Connector: codec line, position.pattern "^(\\\\d+) ", on_connect "RESUME ${next_position}\\n".
  retransmit  reads "HELLO <session_id>\\n" (on_connect), then resends every unacked message in order,
              then new ones (at most 64 unacked at a time); "ACK <id>\\n" acknowledges one.
              Connector: position.pattern, ack {"message": "ACK ${position}\\n", "per": "frame"}.
              Every ACK is checked when it arrives: the runtime must already have committed that
              message *from that connection's session* (the documents carry session_id), and it
              must have been sent on that connection; else the test fails at once.
  counted     seq, but its lines are just "<payload>\\n" (some empty): position.counted.
  json        seq, but NDJSON {"seq": n, "payload": ..., "n": [...]}: codec json, position.pointer "/seq";
              `data` must be the object.
  cumulative  retransmit, but "ACK <n>" acknowledges every message up to n: ack per checkpoint.
              Each ACK: every message up to n sent on that connection must be committed from its
              session.
  hl7         (c), `--kind hl7`, no kills: python3-hl7's MLLPClient sends 40 HL7 v2 messages (control
              ids of several shapes, UTF-8, escapes) to a relay that the connector dials; the
              client waits for an answer after each. Connector: framing mllp, position.pattern
              "MSH\\|(?:[^|\\r]*\\|){8}([^|\\r]*)" (MSH-10) with type string, and the ACK of
              issue 16's brief: "\\x0bMSH|^~\\\\&|CAP|SOCKETCAP|||${time}||ACK|${position}|P|2.5
              \\rMSA|AA|${position}\\r\\x1c\\r" per frame. The relay checks each ACK when it arrives,
              before passing it on: its message must be committed. The client checks its bytes
              exactly (MSH-7 an RFC 3339 time) and that python-hl7 reads MSH-9 ACK, MSH-10 and
              MSA-2 the control id, MSA-1 AA. One connection only; the committed documents must be
              the messages exactly (segment CRs kept), keyed by control id.
All but hl7 write in random bursts with pauses, cut lines (and UTF-8
characters) across writes, and now and then end a connection abruptly (FIN or RST, at a line
boundary or in the middle of a line) to force reconnects within a run. Payloads have spaces,
quotes, backslashes, tabs and UTF-8 (2, 3 and 4 bytes).

Verdict, per kind: every position 1..M committed, none other; for each position the document
Flow keeps (the last committed) has exactly the message's `data` ({"value": "<position>
<payload>"} for seq) and is not partial;
an earlier copy that differs and is not partial is a failure too (corruption, not duplication).
A line cut by a connection's end is committed as a `partial` document whose position is
"<session_id>/<sequence>" (docs/connector.md): a key of its own that no log position equals; the
line itself comes again in full. Such fragments are counted and printed, not failed; any other
document without an integer position fails.
For seq, counted and json the final committed state's position must be M. Printed: kills survived per moment,
runs, documents committed, duplicates removed by key, reconnects the server forced, ACKs.

The seed fixes every random choice of the test (log, bursts, cuts, closes, kill moments and
points, folds); thread and process scheduling still vary from run to run. A failure prints the
seed and the command to run that kind again.

Usage: crash_test.py [--kills N] [--seed S] [--kind all|both|seq|counted|json|retransmit|cumulative|hl7]
                     [--messages M] [--hl7-messages N] [--connector PATH] [--keep] [--self-test]
Defaults are the short form run by `meson test --suite exactly_once` (every kind but hl7, 10
kills each, 1000 messages); scripts/crash-test is the long form (60 kills per kind, 2000
messages, a fresh seed). --kind both runs the brief's two kinds only.
--self-test runs the test against standin_connector.py, a Python stand-in: as written it must
pass, and with each of its deliberate bugs (ack-early, resume-skip, resume-emitted, ack-any-conn)
it must fail.
"""

import argparse
import json
import os
import queue
import random
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'support'))
from testsupport import Failure, merge_patch, package_exists  # noqa: E402 (after the path)
STEP_TIMEOUT = 10.0     # seconds for any one expected event (opened, exit after stdin EOF, ...)
PROGRESS_TIMEOUT = 20.0  # seconds without any output or commit before the test gives up
QUIET = 3.0             # the last run ends this long after its last output once the server has sent
                        # everything, even if the log is not all in (the verdict says what is missing)
STATE_KEY = 'events.v1'
FOLD_MAX = 4
WINDOW = 64             # retransmit: most unacked messages in flight
MOMENTS = ['before_commit', 'between_commit_and_ack', 'after_ack', 'mid_frame', 'anytime']


# --------------------------------------------------------------------------------------------
# Small helpers.

def ranges(numbers, limit=30):
    """[1,2,3,7,9,10] -> '1-3, 7, 9-10' (the first `limit` runs)."""
    runs, numbers = [], sorted(numbers)
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ', '.join(f'{a}-{b}' if a != b else f'{a}' for a, b in runs[:limit])
    return text + (f', ... ({len(runs) - limit} more runs)' if len(runs) > limit else '')


def short(v, n=160):
    s = repr(v)
    return s if len(s) <= n else s[:n - 40] + ' ... ' + s[-30:]


def make_log(rng, m):
    """The server's fixed log: payload i for positions 1..m."""
    alphabet = (list('abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789') + [' '] * 12 +
                list('"\\{}[]:,|^~&\t') + ['é', 'ü', 'ß', '東', '京', '✓', '€', '🙂', '𝄞'])
    log = [None]
    for i in range(1, m + 1):
        n = rng.choice((0, 1, rng.randint(2, 40), rng.randint(2, 40), rng.randint(40, 300)))
        log.append(''.join(rng.choice(alphabet) for _ in range(n)))
    return log


# --------------------------------------------------------------------------------------------
# What the runtime committed, shared with the servers (they check ACKs against it).

class Committed:
    def __init__(self):
        self.lock = threading.Lock()
        self.docs = []            # every committed document, in commit order
        self.keys = set()         # (position, session_id) committed
        self.positions = set()
        self.first_commit = {}    # position -> when it was first committed (time.monotonic())
        self.violations = []      # found by the server threads

    def add(self, docs):
        now = time.monotonic()
        with self.lock:
            for d in docs:
                self.docs.append(d)
                p = d.get('position')
                self.keys.add((p, d.get('session_id')))
                self.positions.add(p)
                self.first_commit.setdefault(p, now)

    def has(self, position, session_id):
        with self.lock:
            return (position, session_id) in self.keys

    def violation(self, text):
        with self.lock:
            self.violations.append(text)


# --------------------------------------------------------------------------------------------
# The servers: one connection at a time, on an ephemeral loopback port.

class ConnectionEnded(Exception):
    pass


class Preempted(Exception):
    pass


class Server(threading.Thread):
    handshake = None  # regex of the first line the connector must send
    string_positions = False

    def __init__(self, log, rng, committed):
        super().__init__(daemon=True)
        self.log, self.rng, self.committed = log, rng, committed
        self.m = len(log) - 1
        self.expected = {i: self.data(i) for i in range(1, self.m + 1)}  # position -> the document's data
        self.limit = self.m  # new messages are produced up to here (the runtime sets it per run)
        self.lis = socket.socket()
        self.lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lis.bind(('127.0.0.1', 0))
        self.lis.listen(8)
        self.lis.setblocking(False)
        self.port = self.lis.getsockname()[1]
        self.stopping = False
        self.exhausted = False                 # the whole log is out on this connection
        self.hold_request = threading.Event()  # the runtime asks for a half-written line
        self.holding = threading.Event()       # set while a half line waits on the wire
        self.stats = dict(connections=0, abrupt_fin=0, abrupt_rst=0, cut_mid_line=0, held_mid_frame=0)
        self.error = None

    def line(self, i):
        return f'{i} {self.log[i]}\n'.encode()

    def data(self, i):
        """The document's `data` for message i (the line codec's)."""
        return {'value': f'{i} {self.log[i]}'}

    # -- plumbing
    def run(self):
        try:
            pending = None
            while not self.stopping:
                if pending is None:
                    if not self.wait_readable(self.lis, 0.05):
                        continue
                    try:
                        pending, _ = self.lis.accept()
                    except BlockingIOError:
                        continue
                conn, pending = pending, None
                self.exhausted = False
                self.stats['connections'] += 1
                conn.setblocking(False)
                self.conn, self.inbuf = conn, b''
                try:
                    first = self.read_line(time.monotonic() + STEP_TIMEOUT)
                    m = re.fullmatch(self.handshake, first)
                    if not m:
                        self.committed.violation(f'{self.kind} server: the first line on a connection was '
                                                 f'{first!r}, expected {self.handshake.pattern!r}')
                        raise ConnectionEnded()
                    self.serve(m)
                except ConnectionEnded:
                    pass
                except Preempted:
                    pass
                finally:
                    self.holding.clear()
                    conn.close()
                if self.wait_readable(self.lis, 0):
                    try:
                        pending, _ = self.lis.accept()
                    except BlockingIOError:
                        pass
        except Exception as e:  # reported by the runtime, never swallowed
            self.error = f'{type(e).__name__}: {e}'
            self.committed.violation(f'{self.kind} server crashed: {self.error}')

    @staticmethod
    def wait_readable(sock, timeout):
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            return bool(sel.select(timeout))

    def pump(self, until, out=b''):
        """Until the time `until` (or, with `out`, until it is all written): reads the connector's
        lines (on_line), writes `out`. Raises ConnectionEnded on EOF or an error, Preempted when a
        new connection waits."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.lis, selectors.EVENT_READ)
            sel.register(self.conn, selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0))
            while True:
                now = time.monotonic()
                if (not out and now >= until) or self.stopping:
                    return
                events = sel.select(max(0.0, until - now) if not out else 0.05)
                for key, ev in events:
                    if key.fileobj is self.lis:
                        raise Preempted()
                    if ev & selectors.EVENT_READ:
                        try:
                            data = self.conn.recv(65536)
                        except (BlockingIOError, InterruptedError):
                            data = None
                        except OSError:
                            raise ConnectionEnded()
                        if data == b'':
                            raise ConnectionEnded()
                        if data:
                            self.inbuf += data
                            while b'\n' in self.inbuf:
                                line, self.inbuf = self.inbuf.split(b'\n', 1)
                                self.on_line(line + b'\n')
                    if ev & selectors.EVENT_WRITE and out:
                        try:
                            n = self.conn.send(out)
                        except (BlockingIOError, InterruptedError):
                            n = 0
                        except OSError:
                            raise ConnectionEnded()
                        out = out[n:]
                        if not out:
                            return
                        sel.modify(self.conn, selectors.EVENT_READ | selectors.EVENT_WRITE)

    def read_line(self, until):
        """The first line of a connection, before on_line takes over."""
        while b'\n' not in self.inbuf:
            if time.monotonic() > until:
                raise ConnectionEnded()
            if not self.wait_readable(self.conn, 0.05):
                if self.wait_readable(self.lis, 0):
                    raise Preempted()
                continue
            try:
                data = self.conn.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                raise ConnectionEnded()
            if not data:
                raise ConnectionEnded()
            self.inbuf += data
        line, self.inbuf = self.inbuf.split(b'\n', 1)
        return line + b'\n'

    def on_line(self, line):
        self.committed.violation(f'{self.kind} server: unexpected line from the connector: {line!r}')

    def send_burst(self, ids):
        """Writes the lines of `ids` in random pieces with short pauses; may end the connection
        abruptly (FIN or RST, maybe mid-line) or, when asked, hold half a line."""
        rng = self.rng
        data = b''.join(self.line(i) for i in ids)
        if self.hold_request.is_set() and data:
            self.hold_request.clear()
            ends = [k + 1 for k, b in enumerate(data) if b == 10]
            start = ends[-2] if len(ends) >= 2 else 0
            cut = start + max(1, (ends[-1] - start) // 2)
            self.pump(0, data[:cut])
            self.stats['held_mid_frame'] += 1
            self.holding.set()
            self.pump(time.monotonic() + 3.0)  # the runtime kills the connector meanwhile
            self.holding.clear()
            data = data[cut:]
        if rng.random() < 0.05:  # end the connection abruptly somewhere in this burst
            cut = rng.randint(0, len(data))
            mid = cut > 0 and data[cut - 1] != 10
            self.write_pieces(data[:cut])
            self.stats['cut_mid_line'] += mid
            if rng.random() < 0.5:
                self.stats['abrupt_fin'] += 1
            else:
                self.stats['abrupt_rst'] += 1
                self.wait_sent()  # a reset discards unsent bytes: only after the client has them all
                self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            raise ConnectionEnded()
        self.write_pieces(data)
        self.pump(time.monotonic() + rng.choice((0, 0.001, 0.005, 0.02, 0.05)))

    def write_pieces(self, data):
        rng = self.rng
        while data:
            n = rng.choice((len(data), len(data), rng.randint(1, 8), rng.randint(1, 200)))
            self.pump(0, data[:n])
            data = data[n:]
            if data and rng.random() < 0.3:
                self.pump(time.monotonic() + rng.choice((0.0005, 0.002)))

    def wait_sent(self):
        import fcntl
        import termios
        end = time.monotonic() + 2
        while time.monotonic() < end:
            if struct.unpack('i', fcntl.ioctl(self.conn, termios.TIOCOUTQ, b'\0\0\0\0'))[0] == 0:
                return
            time.sleep(0.001)

    def stop(self):
        self.stopping = True
        self.join(STEP_TIMEOUT)
        self.lis.close()


class SequenceServer(Server):
    kind = 'seq'
    handshake = re.compile(rb'RESUME (\d+)\n')

    def __init__(self, *a):
        super().__init__(*a)
        self.resumes = []  # every RESUME n asked for

    def serve(self, m):
        n = int(m.group(1))
        self.resumes.append(n)
        if not 1 <= n <= self.m + 1:
            self.committed.violation(f'seq server: RESUME {n} is outside 1..{self.m + 1}')
            raise ConnectionEnded()
        while True:
            limit = self.limit + self.hold_request.is_set()  # a held half line may pass the tap
            if n > min(self.m, limit):
                self.exhausted = n > self.m
                self.pump(time.monotonic() + 0.01)
                continue
            self.exhausted = False
            burst = list(range(n, min(self.m, limit, n + self.rng.choice((1, 3, 10, 40)) - 1) + 1))
            n = burst[-1] + 1
            self.send_burst(burst)

    def complete(self):
        return True


class CountedServer(SequenceServer):
    """The sequence server without numbers in its lines: the connector counts them."""
    kind = 'counted'

    def line(self, i):
        return f'{self.log[i]}\n'.encode()

    def data(self, i):
        return {'value': self.log[i]}


class JsonSequenceServer(SequenceServer):
    """The sequence server writing NDJSON, the position at /seq."""
    kind = 'json'

    def line(self, i):
        return (json.dumps(self.data(i), ensure_ascii=False) + '\n').encode()

    def data(self, i):
        return {'seq': i, 'payload': self.log[i], 'n': [i % 7, None, i * 0.5]}


class RetransmitServer(Server):
    kind = 'retransmit'
    handshake = re.compile(rb'HELLO ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\n')

    def __init__(self, *a):
        super().__init__(*a)
        self.acked = set()
        self.sent_ever = 0       # ids 1..sent_ever were sent at least once
        self.acks = 0
        self.resent = 0

    def serve(self, m):
        self.session_id = m.group(1).decode()
        self.sent_here = set()
        self.acked_here = set()
        todo = [i for i in range(1, self.sent_ever + 1) if i not in self.acked]  # resend, in order
        self.resent += len(todo)
        while True:
            if not todo:
                hold = self.hold_request.is_set()  # a held half line may pass the tap and the window
                room = WINDOW + hold - (self.sent_ever - len(self.acked))
                limit = min(self.m, self.limit + hold)
                if room > 0 and self.sent_ever < limit:
                    k = min(room, limit - self.sent_ever, self.rng.choice((1, 3, 10, 40)))
                    todo = list(range(self.sent_ever + 1, self.sent_ever + k + 1))
                    self.sent_ever += k
                else:
                    self.exhausted = self.sent_ever >= self.m  # the rest comes again only on a new connection
                    self.pump(time.monotonic() + 0.01)  # wait for ACKs
                    continue
            self.exhausted = False
            k = self.rng.choice((1, 3, 10, 40))
            burst, todo = todo[:k], todo[k:]
            self.sent_here.update(burst)
            self.send_burst(burst)

    def on_line(self, line):
        m = re.fullmatch(rb'ACK (\d+)\n', line)
        if not m:
            return self.committed.violation(f'retransmit server: expected "ACK <id>\\n", got {line!r}')
        i = int(m.group(1))
        self.acks += 1
        where = f'ACK {i} on the connection of session {self.session_id}'
        if i not in self.sent_here:
            self.committed.violation(f'retransmit server: {where}, but message {i} was not sent on it')
        elif not self.committed.has(i, self.session_id):
            self.committed.violation(f'retransmit server: {where} before the runtime committed message {i} '
                                     f'from that session (committed from other sessions: '
                                     f'{i in self.committed.positions})')
        if i in self.acked_here:
            self.committed.violation(f'retransmit server: {where} a second time')
        self.acked_here.add(i)
        self.acked.add(i)

    def complete(self):
        return len(self.acked) == self.m


class CumulativeServer(RetransmitServer):
    """The retransmit server whose "ACK <n>" acknowledges every message up to n (the connector acks
    per checkpoint): each message up to n sent on this connection must be committed from its session."""
    kind = 'cumulative'

    def on_line(self, line):
        m = re.fullmatch(rb'ACK (\d+)\n', line)
        if not m:
            return self.committed.violation(f'cumulative server: expected "ACK <n>\\n", got {line!r}')
        n = int(m.group(1))
        self.acks += 1
        where = f'ACK {n} on the connection of session {self.session_id}'
        if n not in self.sent_here:
            self.committed.violation(f'cumulative server: {where}, but message {n} was not sent on it')
        if n in self.acked_here:
            self.committed.violation(f'cumulative server: {where} again (it acknowledged {n} already)')
        covered = sorted(i for i in self.sent_here if i <= n and i not in self.acked_here)
        early = [i for i in covered if not self.committed.has(i, self.session_id)]
        if early:
            self.committed.violation(f'cumulative server: {where} before the runtime committed messages '
                                     f'{ranges(early, 10)} from that session')
        self.acked_here.update(covered)
        self.acked.update(covered)


# --------------------------------------------------------------------------------------------
# (c) A real HL7 sender: python3-hl7's MLLPClient, through a relay (it dials, and so does the
# connector), waiting for the connector's own ACK after every message.

SB, EB, CR = b'\x0b', b'\x1c', b'\r'
HL7_ACK = ('\\x0bMSH|^~\\\\&|CAP|SOCKETCAP|||${time}||ACK|${position}|P|2.5\\rMSA|AA|${position}\\r'
           '\\x1c\\r')  # the template as a user types it (escapes for the template parser)


def hl7_messages(rng, n):
    """n HL7 v2 messages with distinct control ids (MSH-10) of several shapes, UTF-8 names, escapes."""
    msh = 'MSH|^~\\&|LAB|GOOD HEALTH|EHR|GOOD HEALTH|20240105{t:06d}||{type}|{id}|P|2.5.1|||AL|NE||UNICODE UTF-8'
    names = ['Doe^John^Q', 'Müller^Zoë', 'Tanaka^Hanako~田中^花子', "O'Brien^Seán", 'Ngô^Bảo Châu']
    out = []
    for i in range(1, n + 1):
        cid = rng.choice((f'MSG{i:05d}', f'{20240105083000 + i}', f'A{i}-{rng.randint(0, 999):03d}.x'))
        kind = rng.choice(('ADT^A01^ADT_A01', 'ORU^R01^ORU_R01', 'ADT^A08^ADT_A01'))
        segs = [msh.format(t=i, type=kind, id=cid), f'PID|1||{100000 + i}^^^GOOD HEALTH^MR||{rng.choice(names)}']
        if kind.startswith('ORU'):
            segs += [f'OBX|1|NM|15545^GLUCOSE||{rng.randint(60, 300)}|mg/dl|70_105|H|||F',
                     'OBX|2|TX|NOTE^Comment||fasting: no\\X0A\\see chart|||||F']
        out.append('\r'.join(segs))
    return out


def control_id(message):
    return message.split('\r')[0].split('|')[9]


def hl7_module():
    try:
        import hl7
        import hl7.client
        return hl7
    except ImportError:
        return None


class Hl7Relay:
    """Sender leg in (MLLPClient), connector leg out; forwards the sender's bytes as they come and
    the connector's ACKs frame by frame. Each ACK is checked when it reaches the relay, before the
    sender sees it: its message must be committed, and its bytes exactly the template's."""
    kind = 'hl7'
    string_positions = True

    def __init__(self, messages, committed):
        self.messages, self.committed = messages, committed
        self.expected = {control_id(m): {'value': m} for m in messages}
        self.m = len(messages)
        self.limit = self.m
        self.exhausted = False  # the sender waits for each ACK: the run ends when it is done
        self.hold_request, self.holding = threading.Event(), threading.Event()
        self.lis_in, self.lis_out = self.listener(), self.listener()
        self.port = self.lis_out.getsockname()[1]
        self.acked = set()
        self.ack_delays = []   # seconds from the message's commit to its ACK reaching the relay
        self.sender_done = False
        self.stopping = False
        self.stats = dict(connections=0)
        self.threads = [threading.Thread(target=self.guard, args=(f,), daemon=True) for f in (self.relay, self.sender)]

    @staticmethod
    def listener():
        lis = socket.socket()
        lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lis.bind(('127.0.0.1', 0))
        lis.listen(4)
        lis.settimeout(0.05)
        return lis

    def start(self):
        for t in self.threads:
            t.start()

    def guard(self, f):
        try:
            f()
        except Exception as e:  # reported by the runtime, never swallowed
            if not self.stopping:
                self.committed.violation(f'hl7 {f.__name__}: {type(e).__name__}: {e}')

    def accept(self, lis):
        end = time.monotonic() + STEP_TIMEOUT
        while not self.stopping and time.monotonic() < end:
            try:
                conn, _ = lis.accept()
                return conn
            except socket.timeout:
                continue
        raise Failure('nobody connected to the relay')

    def sender(self):
        hl7 = hl7_module()
        client = hl7.client.MLLPClient('127.0.0.1', self.lis_in.getsockname()[1])
        client.socket.settimeout(STEP_TIMEOUT)  # a deadline, in case no ACK comes
        try:
            for m in self.messages:
                cid = control_id(m)
                ack = client.send_message(m)  # blocks until the answer (the relay forwards whole frames)
                self.check_ack(hl7, cid, ack)
                self.acked.add(cid)
        finally:
            client.close()
        self.sender_done = True

    def check_ack(self, hl7, cid, ack):
        t = rb'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z'
        want = (rb'\x0bMSH\|\^~\\&\|CAP\|SOCKETCAP\|\|\|' + t + rb'\|\|ACK\|' + re.escape(cid.encode()) +
                rb'\|P\|2\.5\rMSA\|AA\|' + re.escape(cid.encode()) + rb'\r\x1c\r')
        if not re.fullmatch(want, ack):
            return self.committed.violation(f'hl7: the sender got {ack!r} for {cid}, expected the configured ACK')
        msg = hl7.parse(ack[1:-2].decode())  # as the sender's HL7 library reads it
        got = [str(msg.segment('MSH')[9]), str(msg.segment('MSH')[10]), str(msg.segment('MSA')[1]),
               str(msg.segment('MSA')[2])]
        if got != ['ACK', cid, 'AA', cid]:
            self.committed.violation(f'hl7: python-hl7 reads the ACK for {cid} as MSH-9, MSH-10, MSA-1, MSA-2 = {got}')

    def relay(self):
        conn = self.accept(self.lis_out)
        self.stats['connections'] += 1
        snd = self.accept(self.lis_in)
        back = b''
        with conn, snd, selectors.DefaultSelector() as sel:
            sel.register(snd, selectors.EVENT_READ)
            sel.register(conn, selectors.EVENT_READ)
            sel.register(self.lis_out, selectors.EVENT_READ)
            while not self.stopping:
                for key, _ in sel.select(0.05):
                    if key.fileobj is self.lis_out:
                        return self.committed.violation('hl7: the connector connected a second time')
                    data = key.fileobj.recv(65536)
                    if not data:
                        return  # the sender is done, or the connector went away: the end
                    if key.fileobj is snd:
                        conn.sendall(data)
                        continue
                    back += data
                    while EB + CR in back:
                        end = back.index(EB + CR) + 2
                        frame, back = back[:end], back[end:]
                        m = re.match(rb'\x0bMSH\|(?:[^|\r]*\|){8}([^|\r]*)', frame)
                        cid = m.group(1).decode() if m else None
                        with self.committed.lock:
                            at = self.committed.first_commit.get(cid)
                        if at is None:
                            self.committed.violation(f'hl7: an ACK for {cid!r} before the runtime committed it: {frame!r}')
                        else:
                            self.ack_delays.append(time.monotonic() - at)
                        snd.sendall(frame)

    def complete(self):
        return self.sender_done

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(STEP_TIMEOUT)
        self.lis_in.close()
        self.lis_out.close()


# --------------------------------------------------------------------------------------------
# The runtime.

SERVERS = {s.kind: s for s in (SequenceServer, CountedServer, JsonSequenceServer, RetransmitServer, CumulativeServer)}


def open_request(config, state):
    """As test/connector/capture_lines.hpp open_request builds it."""
    return {'open': {'capture': {'name': 'acmeCo/tcp', 'connectorType': 'IMAGE', 'config': config,
                                 'bindings': [{'resourceConfig': {'stream': 'events'}, 'resourcePath': ['events'],
                                               'collection': {'name': 'acmeCo/events', 'key': ['/position']},
                                               'backfill': 1, 'stateKey': STATE_KEY}],
                                 'intervalSeconds': 300, 'inactiveBindings': []},
                     'version': '0011223344556677',
                     'range': {'keyEnd': 4294967295, 'rClockEnd': 4294967295}, 'state': state}}


class Killed(Exception):
    pass


class Runtime:
    def __init__(self, kind, argv, config, server, committed, rng, tmp, env):
        self.kind, self.argv, self.config, self.server = kind, argv, config, server
        self.committed, self.rng, self.tmp, self.env = committed, rng, tmp, env
        self.state = {}
        self.runs = 0
        self.kills = {}
        self.torn_lines = 0
        self.commits = 0
        self.log_path = os.path.join(tmp, f'{kind}-connector.log')
        self.proc = None

    def fail(self, text):
        raise Failure(f'{text}\n  (run {self.runs}; connector log: {self.log_path})')

    def check_violations(self):
        with self.committed.lock:
            v = list(self.committed.violations)
        if v:
            self.fail('\n  '.join(v[:10]))

    # -- one connector process
    def start(self, label):
        self.runs += 1
        with open(self.log_path, 'ab') as f:
            f.write(f'=== run {self.runs} ({label}), state {json.dumps(self.state)}\n'.encode())
        log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                     env=self.env)
        log.close()
        self.q = queue.Queue()
        self.reader = threading.Thread(target=self.read_stdout, args=(self.proc, self.q), daemon=True)
        self.reader.start()
        self.write(open_request(self.config, self.state))
        kind, raw = self.get(STEP_TIMEOUT)
        if kind != 'line':
            self.fail(f'the connector ended before answering open ({kind}, exit status {self.proc.wait()})')
        if json.loads(raw) != {'opened': {'explicitAcknowledgements': True}}:
            self.fail(f'the first line was {raw!r}, expected {{"opened":{{"explicitAcknowledgements":true}}}}')

    @staticmethod
    def read_stdout(proc, q):
        for line in iter(proc.stdout.readline, b''):
            if not line.endswith(b'\n'):
                q.put(('torn', line))
                break
            q.put(('line', line))
        q.put(('eof', None))

    def get(self, timeout):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return ('idle', None)

    def write(self, msg):
        self.proc.stdin.write((json.dumps(msg) + '\n').encode())
        self.proc.stdin.flush()

    def kill(self, moment):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join(STEP_TIMEOUT)
        while True:  # a torn last line is dropped, as the runtime fails it
            kind, _ = self.get(0)
            if kind == 'torn':
                self.torn_lines += 1
            if kind in ('eof', 'idle'):
                break
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.kills[moment] = self.kills.get(moment, 0) + 1
        with open(self.log_path, 'ab') as f:
            f.write(f'=== SIGKILL ({moment})\n'.encode())
        raise Killed()

    def commit(self, checkpoints, moment):
        """Commits a transaction (its checkpoints' documents and state patches), then acknowledges it."""
        if moment == 'before_commit':
            self.kill(moment)
        docs = []
        for ds, patch in checkpoints:
            self.state = merge_patch(self.state, patch)
            docs += ds
        self.committed.add(docs)
        self.commits += 1
        if moment == 'between_commit_and_ack':
            self.kill(moment)
        self.write({'acknowledge': {'checkpoints': len(checkpoints)}})
        if moment == 'after_ack':
            time.sleep(self.rng.choice((0, 0.001, 0.005)))
            self.kill(moment)

    def life(self, moment, target):
        """One connector process: until it is killed at `moment` (once about `target` positions are
        committed or under way), or, with moment None, until the whole log is committed (and acked).

        Transactions are pipelined as in Flow: checkpoints fill the open transaction until it has
        `fold` of them or the connector goes quiet for 5 ms; it then closes and commits after a
        random latency (0 to 200 ms) while the next one fills; one commits at a time."""
        self.start(moment or 'to the end')
        rng = self.rng
        trigger = max(target - len(self.committed.positions), rng.randint(1, 20))
        open_tx, docs, seen = [], [], 0  # the filling transaction; documents since the last checkpoint
        closing = None                   # (checkpoints, when it commits)
        fold = rng.randint(1, FOLD_MAX)
        armed = deadline = None          # when the kill moment became due; `anytime`'s kill time
        last_line = last_activity = time.monotonic()
        self.server.hold_request.clear()
        try:
            while True:
                self.check_violations()
                now = time.monotonic()
                if moment is None and closing is None and not open_tx and (
                        self.committed_all() and self.server.complete() or
                        self.server.exhausted and now - last_activity > QUIET):
                    return self.stop()  # done, or nothing more will come: the verdict says what is missing
                if moment and armed is None and (seen >= trigger or now - last_activity > 0.3):
                    armed = now
                    deadline = now + rng.uniform(0, 0.05)
                    if moment == 'mid_frame':
                        self.server.hold_request.set()
                if armed is not None:
                    if moment == 'anytime' and now >= deadline:
                        self.kill('anytime')
                    if moment == 'mid_frame' and self.server.holding.is_set():
                        self.kill('mid_frame')
                    if now - armed > 1.5:  # the moment cannot come (e.g. nothing left to send)
                        self.kill('idle')
                if closing and now >= closing[1]:
                    self.commit(closing[0], moment if armed is not None else None)
                    closing = None
                    last_activity = now
                if closing is None and open_tx and (len(open_tx) >= fold or now - last_line > 0.005):
                    closing = (open_tx, now + rng.choice((0, 0, 0.002, 0.01, 0.05, 0.2)))
                    open_tx, fold = [], rng.randint(1, FOLD_MAX)
                kind, raw = self.get(0.002)
                if kind == 'idle':
                    if now - last_activity > PROGRESS_TIMEOUT:
                        self.fail(f'nothing from the connector for {PROGRESS_TIMEOUT:.0f} s; '
                                  f'{len(self.committed.positions)} of {self.server.m} positions committed'
                                  + self.server_status())
                    continue
                if kind in ('eof', 'torn'):
                    self.fail(f'the connector exited by itself (status {self.proc.wait()})')
                last_line = last_activity = time.monotonic()
                msg = json.loads(raw)
                if 'captured' in msg:
                    docs.append(msg['captured']['doc'])
                    seen += 1
                elif 'checkpoint' in msg:
                    st = msg['checkpoint']['state']
                    if st.get('mergePatch') is not True:
                        self.fail(f'a checkpoint without mergePatch true: {raw!r}')
                    open_tx.append((docs, st['updated']))
                    docs = []
                else:
                    self.fail(f'unexpected line from the connector: {short(raw)}')
        except Killed:
            return

    def stop(self):
        """The end: stdin closed, the connector must exit 0 (what it writes now is not committed)."""
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.fail(f'the connector did not exit within {STEP_TIMEOUT:.0f} s of stdin closing')
        self.reader.join(STEP_TIMEOUT)
        if rc != 0:
            self.fail(f'the connector exited with status {rc} after stdin closed, expected 0')

    def committed_all(self):
        with self.committed.lock:
            return len(self.committed.positions) >= self.server.m and \
                all(k in self.committed.positions for k in self.server.expected)

    def server_status(self):
        s = self.server
        text = f'; server: {s.stats}'
        if isinstance(s, RetransmitServer):
            text += f', {len(s.acked)} acked, {s.sent_ever} sent'
        return text

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------------------------
# The verdict.

def verdict(kind, server, docs, state):
    expected, m = server.expected, server.m
    by_key, problems = {}, []
    show_keys = ranges if not server.string_positions else (lambda ks: ', '.join(map(str, sorted(ks)[:30])))
    if hasattr(server, 'acked') and len(server.acked) != m:
        problems.append(f'the server got no ACK for {m - len(server.acked)} messages: '
                        f'{show_keys(set(expected) - server.acked)}')
    fragments = 0
    for d in docs:
        p = d.get('position')
        if d.get('partial') and p == f'{d.get("session_id")}/{d.get("sequence")}':
            fragments += 1  # a frame cut by the connection's end: a key of its own, resent in full
            continue
        if isinstance(p, bool) or not isinstance(p, str if server.string_positions else int):
            problems.append(f'a committed document has no {"string" if server.string_positions else "integer"} '
                            f'position: {short(d, 300)}')
            continue
        by_key.setdefault(p, []).append(d)
    missing = [p for p in expected if p not in by_key]
    extra = [p for p in by_key if p not in expected]
    if missing:
        problems.append(f'LOST: {len(missing)} positions never committed: {show_keys(missing)}')
    if extra:
        problems.append(f'{len(extra)} positions committed that the log does not have: {show_keys(extra)}')
    wrong, corrupt = [], []
    for p in sorted(k for k in by_key if k in expected):
        want = expected[p]
        kept = by_key[p][-1]  # Flow keeps the last document committed under a key
        value = kept.get('data')
        if value != want or kept.get('partial'):
            wrong.append(f'  position {p}: kept {short(value)}{" (partial)" if kept.get("partial") else ""}, '
                         f'the log has {short(want)}')
        for d in by_key[p][:-1]:
            if d.get('data') != want and not d.get('partial'):
                corrupt.append(f'  position {p}: a copy {short(d.get("data"))}, the log has {short(want)}')
    if wrong:
        problems.append(f'{len(wrong)} positions whose document differs from the log:\n' + '\n'.join(wrong[:10]))
    if corrupt:
        problems.append(f'{len(corrupt)} duplicates that are not the same message:\n' + '\n'.join(corrupt[:10]))
    if kind in ('seq', 'counted', 'json'):
        pos = state.get('bindingStateV1', {}).get(STATE_KEY, {}).get('position')
        if pos != m:
            problems.append(f'the committed state\'s position is {pos!r}, expected {m}: {short(state, 300)}')
    duplicated = sorted(p for p, ds in by_key.items() if len(ds) > 1)
    return problems, sum(len(ds) for ds in by_key.values()) - len(by_key), duplicated, fragments


# --------------------------------------------------------------------------------------------

def connector_config(kind, port):
    cfg = {'host': '127.0.0.1', 'port': port, 'codec': 'line', 'position': {'pattern': '^(\\d+) '},
           'reconnect_delay': 0.02, 'connection_timeout': 5}
    if kind == 'hl7':  # MSH-10, the control id, as the brief of issue 16 writes it
        cfg['framing'] = {'type': 'mllp'}
        cfg['position'] = {'pattern': 'MSH\\|(?:[^|\\r]*\\|){8}([^|\\r]*)', 'type': 'string'}
        cfg['ack'] = {'message': HL7_ACK, 'per': 'frame'}
    elif kind in ('seq', 'counted', 'json'):
        cfg['on_connect'] = ['RESUME ${next_position}\n']
        if kind == 'counted':
            cfg['position'] = {'counted': True}
        if kind == 'json':
            cfg['codec'], cfg['position'] = 'json', {'pointer': '/seq'}
    else:
        cfg['on_connect'] = ['HELLO ${session_id}\n']
        cfg['ack'] = {'message': 'ACK ${position}\n', 'per': 'frame' if kind == 'retransmit' else 'checkpoint'}
    return cfg


def check_discover(argv, env, cfg):
    """The collection is keyed on /position when position is configured (Flow dedups by it)."""
    req = json.dumps({'discover': {'connectorType': 'IMAGE', 'config': cfg}}) + '\n'
    r = subprocess.run(argv, input=req.encode(), capture_output=True, env=env, timeout=STEP_TIMEOUT)
    try:
        key = json.loads(r.stdout)['discovered']['bindings'][0]['key']
    except (ValueError, KeyError, IndexError):
        raise Failure(f'discover did not answer a binding: {short(r.stdout, 300)} {short(r.stderr[-300:], 300)}')
    if key != ['/position']:
        raise Failure(f'discover keys the collection on {key}, expected ["/position"]')


def run_kind(kind, args, seed, tmp):
    rng = random.Random(f'{seed}/{kind}')
    committed = Committed()
    if kind == 'hl7':
        server = Hl7Relay(hl7_messages(rng, args.hl7_messages), committed)
        kills = 0  # python-hl7's client does not resend: the ACK path is what is checked here
    else:
        log = make_log(rng, args.messages)
        server = SERVERS[kind](log, random.Random(rng.random()), committed)
        kills = args.kills
    cfg = connector_config(kind, server.port)
    env = dict(os.environ, LOG_LEVEL='info')
    if args.bug:
        env['STANDIN_BUG'] = args.bug
        env['STANDIN_DIR'] = tmp
    if args.check_discover:
        check_discover(args.argv, env, cfg)
    runtime = Runtime(kind, args.argv, cfg, server, committed, random.Random(rng.random()), tmp, env)
    server.start()
    start = time.monotonic()
    try:
        plan = []
        while len(plan) < kills:
            block = MOMENTS[:]
            rng.shuffle(block)
            plan += block
        share = server.m // (kills + 1)
        for i, moment in enumerate(plan[:kills]):  # kill points spread over the log
            server.limit = (i + 2) * share  # the server produces the log over time
            runtime.life(moment, (i + 1) * share)
        server.limit = server.m
        runtime.life(None, 0)
        runtime.check_violations()
    finally:
        runtime.cleanup()
        server.stop()
    elapsed = time.monotonic() - start
    problems, dups, duplicated, fragments = verdict(kind, server, committed.docs, runtime.state)
    if problems:
        raise Failure('\n'.join(problems) + f'\n  (connector log: {runtime.log_path})')
    if kind == 'hl7':
        d = sorted(server.ack_delays)
        return (f'hl7: {server.m} messages from python3-hl7\'s MLLPClient, {len(server.acked)} correct ACKs from the '
                f'connector, each after its commit ({1000 * d[0]:.1f} to {1000 * d[-1]:.1f} ms later, '
                f'median {1000 * d[len(d) // 2]:.1f}); {runtime.commits} commits; {len(committed.docs)} documents '
                f'committed, {dups} duplicates, {fragments} partial fragments; {elapsed:.1f} s')
    kills = sum(runtime.kills.values())
    order = MOMENTS + ['idle']
    detail = ', '.join(f'{k} {runtime.kills[k]}' for k in order if k in runtime.kills)
    s = server.stats
    line = (f'{kind}: {kills} kills survived ({detail}); {runtime.runs} runs, {runtime.commits} commits; '
            f'{len(committed.docs)} documents committed, {dups} duplicates removed by key'
            f'{" (" + ranges(duplicated, 8) + ")" if duplicated and kind == "seq" else ""}, '
            f'{fragments} partial fragments under keys of their own, '
            f'{args.messages} positions exact; server: {s["connections"]} connections, '
            f'{s["abrupt_fin"] + s["abrupt_rst"]} ended abruptly ({s["abrupt_rst"]} RST, {s["cut_mid_line"]} mid-line), '
            f'{s["held_mid_frame"]} half lines held')
    if isinstance(server, SequenceServer):
        line += f', {len(server.resumes)} RESUMEs'
    else:
        line += f', {server.acks} ACKs, {server.resent} resends'
    line += f'; {runtime.torn_lines} torn stdout lines; {elapsed:.1f} s'
    return line


def self_test(args):
    """The test against the Python stand-in: must pass as written, fail with each bug."""
    standin = [sys.executable, os.path.join(HERE, 'standin_connector.py')]
    failed = 0
    for bug, kinds in [('', ('seq', 'retransmit')), ('ack-early', ('retransmit',)),
                       ('resume-skip', ('seq',)), ('resume-emitted', ('seq',)), ('ack-any-conn', ('retransmit',))]:
        for kind in kinds:
            a = argparse.Namespace(**vars(args))
            a.argv, a.bug, a.check_discover = standin, bug, False
            tmp = tempfile.mkdtemp(prefix='socketcap-crash-self-')
            try:
                summary = run_kind(kind, a, args.seed, tmp)
                outcome = None
            except Failure as e:
                summary, outcome = str(e).split('\n')[0], e
            shutil.rmtree(tmp, ignore_errors=True)
            ok = (outcome is None) == (bug == '')
            failed += not ok
            print(f'{"ok  " if ok else "FAIL"} stand-in{" with bug " + bug if bug else ""}, {kind}: '
                  f'{"passed" if outcome is None else "failed"} ({summary})')
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--kills', type=int, default=10, help='SIGKILLs per server kind (default 10)')
    ap.add_argument('--seed', default='1', help='fixes every random choice (default 1; "random" for a fresh one)')
    ap.add_argument('--kind', choices=('all', 'both') + tuple(SERVERS) + ('hl7',), default='all',
                    help='all (default): every kind but hl7; both: seq and retransmit; hl7: case (c), '
                    'python3-hl7\'s MLLP client')
    ap.add_argument('--hl7-messages', type=int, default=40, help='messages the HL7 sender sends (default 40)')
    ap.add_argument('--messages', type=int, default=1000, help='messages in each server\'s log (default 1000)')
    ap.add_argument('--connector', default=os.environ.get('SOURCE_SOCKET'), help='default: $SOURCE_SOCKET')
    ap.add_argument('--keep', action='store_true', help='keep the connector logs even when the test passes')
    ap.add_argument('--self-test', action='store_true', help='run against standin_connector.py and its bugs')
    args = ap.parse_args()
    if args.seed == 'random':
        args.seed = str(random.SystemRandom().randrange(1, 1 << 31))
    if args.self_test:
        return self_test(args)
    if not args.connector:
        print('FAIL: SOURCE_SOCKET is not set and --connector not given (run through meson test)')
        return 1
    args.argv, args.bug, args.check_discover = [args.connector], '', True
    kinds = {'all': tuple(SERVERS), 'both': ('seq', 'retransmit')}.get(args.kind, (args.kind,))
    if 'hl7' in kinds and not hl7_module():
        exists = package_exists('python3-hl7')
        if not exists:
            print('SKIP: needs the package python3-hl7, which this system does not have '
                  f'({"apt does not know it" if exists is False else "no apt"})')
            return 77
        print('FAIL: the package python3-hl7 is not installed; run scripts/bootstrap')
        return 1
    if args.kind == 'hl7':
        print(f'crash test, case (c): seed {args.seed}, {args.hl7_messages} HL7 messages')
    else:
        print(f'crash test: seed {args.seed}, {args.kills} kills per kind, {args.messages} messages')
    failed = 0
    for kind in kinds:
        tmp = tempfile.mkdtemp(prefix=f'socketcap-crash-{kind}-')
        try:
            print('ok   ' + run_kind(kind, args, args.seed, tmp))
            if args.keep:
                print(f'     (logs kept in {tmp})')
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        except Failure as e:
            failed += 1
            print(f'FAIL {kind} (seed {args.seed}): {e}')
            print(f'     again: {sys.argv[0]} --kind {kind} --seed {args.seed} --kills {args.kills} '
                  f'--messages {args.messages}')
            print(f'     (files kept in {tmp})')
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
