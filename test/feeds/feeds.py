#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Issue 14: the connector against real senders no one here wrote, on loopback.

  rsyslog, plain   test --(octet-counted)--> rsyslogd imtcp --omfwd octet-counted TCP--> relay --> source-socket
  rsyslog, TLS     the same, omfwd over TLS (gtls driver); the relay terminates TLS on both legs
  HL7 MLLP         python3-hl7's MLLPClient --MLLP--> relay (answers ACKs) --> source-socket
  HL7 ACK          python3-hl7's MLLPClient <--MLLP--> pipe <--> source-socket in Flow mode, this test
                   as the runtime: each ACK comes from the connector, and only after the commit (issue 16)

rsyslog and MLLP clients only send, and the connector only dials, so a relay sits between them:
two listeners on ephemeral loopback ports (no port guessing), one sender connection whose bytes
it records and forwards, and exactly one connector connection; when the sender closes, the relay
closes the connector's leg and its listener. The connector runs with `max_reconnect_attempts: 0`,
so after that disconnect its one reconnect attempt is refused and it exits by itself: everything it
printed is everything it captured, which proves nothing came beyond the expected documents.

Each case asserts, exactly and in order: the bytes the sender put on the wire (what rsyslog or
python-hl7 produced, so a failure says which side is wrong), every document's `data.value`, and
the connector's `disconnected` counts (no errors, invalid frames, skipped bytes or partial frames).

Needs rsyslog, rsyslog-gnutls, python3-hl7, openssl (scripts/bootstrap installs them). Exits 77
(skipped) only when such a package does not exist for this system; a package merely not installed
is a failure that says to run scripts/bootstrap.

FEEDS_KEEP=1 keeps each case's files (configs, logs, output) in its temporary directory.
FEEDS_PLUMBING=lines (development, before the framers existed): rsyslog sends LF-framed
("traditional") and the connector frames by `lines`; the expected documents follow from that.
"""

import functools
import glob
import json
import queue
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CERTS = os.path.join(HERE, '..', 'tls', 'make-certs.sh')
PLUMBING = os.environ.get('FEEDS_PLUMBING', '')  # '' (the real test) or 'lines'
STEP_TIMEOUT = 10.0  # seconds for any one wait; the whole test takes a few seconds

sys.path.insert(0, os.path.join(HERE, '..', 'support'))
from testsupport import Failure, package_exists, read  # noqa: E402 (after the path)
import testsupport  # noqa: E402

deadline_wait = functools.partial(testsupport.deadline_wait, timeout=STEP_TIMEOUT, interval=0.02)


def require(present, pkg):
    if present:
        return
    exists = package_exists(pkg)
    if exists is False or exists is None:
        print(f'SKIP: needs the package {pkg}, which this system does not have '
              f'({"apt does not know it" if exists is False else "no apt"})')
        sys.exit(SKIP)
    print(f'FAIL: the package {pkg} is not installed; run scripts/bootstrap')
    sys.exit(1)


def hl7_module():
    try:
        import hl7
        import hl7.client
        return hl7
    except ImportError:
        return None


# --------------------------------------------------------------------------------------------
# Processes: every one started is recorded and ended (SIGTERM, then SIGKILL) even on failure.

class Processes:
    def __init__(self):
        self.procs = []

    def start(self, name, argv, log_path, **kw):
        log = open(log_path, 'wb')
        p = subprocess.Popen(argv, stdout=kw.pop('stdout', log), stderr=log, stdin=subprocess.DEVNULL, **kw)
        self.procs.append((name, p, log))
        return p

    def stop(self, p, grace=3.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for _, p, log in reversed(self.procs):
            self.stop(p)
            log.close()
        self.procs.clear()


# --------------------------------------------------------------------------------------------
# The relay.

def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 0))
    s.listen(4)
    s.settimeout(0.1)
    return s


class Relay:
    """Sender leg in, connector leg out; records the sender's bytes; TLS on both legs when
    `tls` (an ssl server context) is given; `on_data(conn, all_bytes_so_far)` may answer the
    sender (the MLLP case's ACKs)."""

    def __init__(self, tls=None, on_data=None):
        self.tls = tls
        self.on_data = on_data
        self.lis_in, self.lis_out = listener(), listener()
        self.in_port, self.out_port = self.lis_in.getsockname()[1], self.lis_out.getsockname()[1]
        self.received = bytearray()
        self.sender_done = False
        self.connector_connected = False
        self.errors = []
        self.stopping = False
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._guard, args=(f, ), daemon=True)
                        for f in (self._sender_leg, self._connector_leg)]
        for t in self.threads:
            t.start()

    def _guard(self, f):
        try:
            f()
        except Exception as e:  # reported by the case, never swallowed
            with self.cond:
                self.errors.append(f'{f.__name__}: {type(e).__name__}: {e}')
                self.sender_done = True
                self.cond.notify_all()

    def _accept(self, lis):
        while not self.stopping:
            try:
                conn, _ = lis.accept()
            except socket.timeout:
                continue
            conn.settimeout(STEP_TIMEOUT)
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            return conn
        return None

    def _sender_leg(self):
        conn = self._accept(self.lis_in)
        self.lis_in.close()
        if conn is None:
            return
        with conn:
            conn.settimeout(0.1)
            while not self.stopping:
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                with self.cond:
                    self.received += chunk
                    self.cond.notify_all()
                if self.on_data:
                    self.on_data(conn, bytes(self.received))
        with self.cond:
            self.sender_done = True
            self.cond.notify_all()

    def _connector_leg(self):
        conn = self._accept(self.lis_out)
        self.lis_out.close()  # one connection only: the connector's reconnect is refused
        if conn is None:
            return
        with self.cond:
            self.connector_connected = True
        sent = 0
        with conn:
            while True:
                with self.cond:
                    self.cond.wait_for(lambda: len(self.received) > sent or self.sender_done or self.stopping, 0.1)
                    chunk, done = bytes(self.received[sent:]), self.sender_done or self.stopping
                if chunk:
                    conn.sendall(chunk)
                    sent += len(chunk)
                elif done:
                    break
            if self.tls:
                try:
                    conn.unwrap()  # close_notify, so the connector sees a clean close
                except (OSError, ssl.SSLError):
                    pass

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(STEP_TIMEOUT)
        for lis in (self.lis_in, self.lis_out):
            lis.close()


# --------------------------------------------------------------------------------------------
# The connector.

def connector_config(tmp, port, framing, tls_ca=None):
    cfg = {
        'host': '127.0.0.1', 'port': port, 'codec': 'line', 'framing': {'type': framing},
        'reconnect_delay': 0.1, 'max_reconnect_attempts': 0, 'connection_timeout': 5,
    }
    if tls_ca:
        cfg['tls'] = {'enabled': True, 'ca_cert': tls_ca, 'server_hostname': 'localhost'}
    path = os.path.join(tmp, 'connector.json')
    with open(path, 'w') as f:
        json.dump(cfg, f)
    return path


def start_connector(procs, tmp, cfg):
    out = open(os.path.join(tmp, 'connector.out'), 'wb')
    p = procs.start('source-socket', [os.environ['SOURCE_SOCKET'], 'capture', '--config', cfg],
                    os.path.join(tmp, 'connector.log'), stdout=out,
                    env=dict(os.environ, LOG_LEVEL='info'))
    out.close()
    return p


def connector_results(tmp, p):
    """Waits for the connector to exit by itself; returns (documents, disconnected log lines)."""
    try:
        p.wait(STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure('the connector did not exit after the relay closed and refused its reconnect')
    with open(os.path.join(tmp, 'connector.out'), 'rb') as f:
        docs = [json.loads(line) for line in f.read().splitlines() if line.strip()]
    logs = []
    with open(os.path.join(tmp, 'connector.log'), 'rb') as f:
        for line in f.read().splitlines():
            try:
                logs.append(json.loads(line))
            except ValueError:
                logs.append({'unparsed': line.decode('utf-8', 'replace')})
    return docs, logs


# --------------------------------------------------------------------------------------------
# Assertions that say what differed.

def show(v):
    """repr() of bytes or text, its middle elided when long."""
    gap = b'...' if isinstance(v, bytes) else '...'
    return repr(v if len(v) <= 200 else v[:120] + gap + v[-60:])


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def expect_equal_bytes(what, got, want):
    if got != want:
        i = first_difference(got, want)
        raise Failure(f'{what}: {len(got)} bytes, expected {len(want)}; first difference at byte {i}:\n'
                      f'  got      {show(got[max(0, i - 40):i + 80])}\n'
                      f'  expected {show(want[max(0, i - 40):i + 80])}')


def expect_documents(docs, want_values, want_partial=()):
    got = [d.get('data', {}).get('value') for d in docs]
    problems = []
    for i in range(max(len(got), len(want_values))):
        g = got[i] if i < len(got) else '<no document>'
        w = want_values[i] if i < len(want_values) else '<no document expected>'
        if g != w:
            if isinstance(g, str) and isinstance(w, str) and i < len(got) and i < len(want_values):
                j = first_difference(g, w)
                g, w = g[max(0, j - 40):j + 80], w[max(0, j - 40):j + 80]
                where = f'first difference at character {j}'
            else:
                where = 'missing' if i >= len(got) else 'not expected'
            problems.append(f'  document {i + 1}: {where}\n    got      {show(g)}\n    expected {show(w)}'
                            + (f'\n    (whole document: {json.dumps(docs[i])[:300]})' if i < len(docs) else ''))
        elif i < len(docs) and bool(docs[i].get('partial')) != (i in want_partial):
            problems.append(f'  document {i + 1}: partial is {docs[i].get("partial")!r}, expected {i in want_partial}')
    if problems:
        raise Failure(f'{len(got)} documents, expected {len(want_values)}:\n' + '\n'.join(problems))


def expect_clean_disconnect(logs, wire, ndocs, partial=0):
    disc = [line for line in logs if line.get('msg') == 'disconnected']
    if len(disc) != 1:
        raise Failure(f'expected one "disconnected" log line, got {len(disc)}; the log:\n'
                      + '\n'.join(json.dumps(line) for line in logs))
    d = disc[0]
    want = {'bytes': len(wire), 'documents': ndocs, 'error_documents': 0, 'invalid_frames': 0,
            'skipped_bytes': 0, 'partial_frames': partial}
    got = {k: d.get(k) for k in want}
    if got != want:
        raise Failure(f'"disconnected" counts {got}, expected {want}; the line: {json.dumps(d)}')


# --------------------------------------------------------------------------------------------
# rsyslog.

# What the test sends to rsyslog (RFC 3164 with tag, no timestamp) and therefore what the template
# `<%PRI%>%syslogtag%%msg%` reproduces byte for byte: %syslogtag% is "app:" or "app[pid]:" and
# %msg% the rest, its leading space included.
SYSLOG_MESSAGES = [
    '<13>app: hello from rsyslog',
    '<165>sshd[4242]: Accepted publickey for alice from 192.0.2.7 port 50022',
    '<14>multi: first line\nsecond line\n  third line, indented',  # LFs kept in one message
    '<13>intl: Grüße aus Köln, 東京から, ✓ — naïve café',
    '<134>long: ' + ''.join(chr(ord('a') + i % 26) for i in range(3000)),
    '<13>digits: 42 7 <13> 3000 0 ',  # digits and a trailing space inside a counted message
    '<13>app: last message',
]


def rsyslog_conf(tmp, relay_port, tls_ca=None):
    framing = 'traditional' if PLUMBING == 'lines' else 'octet-counted'
    tls_global = f' defaultNetstreamDriverCAFile="{tls_ca}"' if tls_ca else ''
    tls_action = ('\n    StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"'
                  ' StreamDriverPermittedPeers="localhost"') if tls_ca else ''
    # The input is bound to its own ruleset: rsyslog's internal messages (start, stop, errors)
    # go to the default ruleset, which writes them to internal.log for diagnosis, never to the relay.
    return f'''
global(workDirectory="{tmp}" parser.escapeControlCharactersOnReceive="off"
       maxMessageSize="16k"{tls_global})
module(load="imtcp")
template(name="exact" type="string" string="<%PRI%>%syslogtag%%msg%")
ruleset(name="feed") {{
  action(type="omfwd" target="127.0.0.1" port="{relay_port}" protocol="tcp"
         TCP_Framing="{framing}" template="exact"{tls_action})
}}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{tmp}/imtcp.port" ruleset="feed")
*.* action(type="omfile" file="{tmp}/internal.log")
'''


def rsyslog_case(tmp, procs, tls):
    certs = None
    server_ctx = None
    if tls:
        certs = os.path.join(tmp, 'certs')
        os.mkdir(certs)
        subprocess.run(['sh', MAKE_CERTS, certs], check=True, timeout=60)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(os.path.join(certs, 'server.pem'), os.path.join(certs, 'server.key'))
    ca = os.path.join(certs, 'ca.pem') if certs else None
    relay = Relay(tls=server_ctx)
    try:
        conf = os.path.join(tmp, 'rsyslog.conf')
        with open(conf, 'w') as f:
            f.write(rsyslog_conf(tmp, relay.in_port, ca))
        # -n foreground, -C no chdir to /, -i its own pid file: no system file or service touched.
        rsyslogd = procs.start('rsyslogd', ['rsyslogd', '-n', '-C', '-f', conf, '-i', os.path.join(tmp, 'rsyslogd.pid')],
                               os.path.join(tmp, 'rsyslogd.log'))
        port_file = os.path.join(tmp, 'imtcp.port')
        deadline_wait('rsyslogd to listen (imtcp.port)',
                      lambda: rsyslogd.poll() is not None or (os.path.exists(port_file) and open(port_file).read().strip()))
        if rsyslogd.poll() is not None:
            raise Failure(f'rsyslogd exited with {rsyslogd.returncode}:\n' + read(os.path.join(tmp, 'rsyslogd.log')))
        imtcp_port = int(open(port_file).read())

        connector = start_connector(procs, tmp, connector_config(
            tmp, relay.out_port, 'lines' if PLUMBING == 'lines' else 'octet_counting', ca))
        deadline_wait('the connector to connect to the relay',
                      lambda: relay.connector_connected or connector.poll() is not None)

        # Into rsyslog, octet-counted too, so the LFs stay inside one message on the way in.
        encoded = [m.encode() for m in SYSLOG_MESSAGES]
        with socket.create_connection(('127.0.0.1', imtcp_port), timeout=STEP_TIMEOUT) as s:
            s.sendall(b''.join(b'%d %s' % (len(m), m) for m in encoded))

        if PLUMBING == 'lines':
            wire = b''.join(m + b'\n' for m in encoded)
            values = [line for m in SYSLOG_MESSAGES for line in m.split('\n')]
        else:
            wire = b''.join(b'%d %s' % (len(m), m) for m in encoded)
            values = SYSLOG_MESSAGES
        deadline_wait(lambda: f'rsyslog to forward {len(wire)} bytes (the relay has {len(relay.received)})',
                      lambda: len(relay.received) >= len(wire) or relay.errors)
        procs.stop(rsyslogd)  # closes its connection: the relay then closes the connector's
        deadline_wait('the relay to finish', lambda: relay.sender_done)
        if relay.errors:
            raise Failure('relay: ' + '; '.join(relay.errors))
        expect_equal_bytes('rsyslog sent', bytes(relay.received), wire)
        docs, logs = connector_results(tmp, connector)
        expect_documents(docs, values)
        expect_clean_disconnect(logs, wire, len(values))
        return f'{len(values)} documents from {len(wire)} bytes'
    finally:
        relay.stop()


# --------------------------------------------------------------------------------------------
# HL7 over MLLP.

def hl7_messages():
    msh = 'MSH|^~\\&|LAB|GOOD HEALTH|EHR|GOOD HEALTH|20240105083000||{type}|{id}|P|2.5.1|||AL|NE||UNICODE UTF-8'
    return [
        '\r'.join([msh.format(type='ADT^A01^ADT_A01', id='MSG00001'),
                   'EVN|A01|20240105083000',
                   'PID|1||123456^^^GOOD HEALTH^MR||Doe^John^Q||19700101|M|||1 Main St^^Springfield^IL^62701',
                   'PV1|1|I|2000^2012^01||||004777^Good^Sidney^J.']),
        '\r'.join([msh.format(type='ORU^R01^ORU_R01', id='MSG00002'),
                   'PID|1||654321^^^GOOD HEALTH^MR||Müller^Zoë||19851231|F',
                   'OBR|1|845439^GHH OE|1045813^GHH LAB|15545^GLUCOSE',
                   'OBX|1|NM|15545^GLUCOSE||182|mg/dl|70_105|H|||F',
                   'OBX|2|TX|NOTE^Comment||fasting: no\\X0A\\see chart|||||F']),
        '\r'.join([msh.format(type='ADT^A08^ADT_A01', id='MSG00003'),
                   'EVN|A08|20240105090000',
                   'PID|1||777^^^GOOD HEALTH^MR||Tanaka^Hanako^^^^^L~田中^花子^^^^^L||19900315|F',
                   'NK1|1|Tanaka^Taro|SPO']),
        '\r'.join([msh.format(type='ADT^A03^ADT_A03', id='MSG00004'),
                   'PID|1||123456^^^GOOD HEALTH^MR||Doe^John^Q',
                   'PV1|1|I|2000^2012^01']),
    ]


def mllp_case(tmp, procs):
    hl7 = hl7_module()
    SB, EB, CR = b'\x0b', b'\x1c', b'\r'
    acks_sent = []

    # MLLPClient.send() blocks in recv() until the peer answers; the connector never answers.
    # So the relay answers like an HL7 receiver would: for each complete frame the sender has
    # sent, an original-mode ACK (MSA|AA) built by the hl7 library itself (Message.create_ack).
    def answer(conn, received):
        frames = received.split(EB + CR)[:-1]
        for frame in frames[len(acks_sent):]:
            msg = hl7.parse(frame.lstrip(SB).decode('utf-8'))
            ack = str(msg.create_ack('AA', message_id='ACK' + str(msg.segment('MSH')[10])))
            conn.sendall(SB + ack.encode('utf-8') + EB + CR)
            acks_sent.append(ack)

    relay = Relay(on_data=answer)
    try:
        connector = start_connector(procs, tmp, connector_config(
            tmp, relay.out_port, 'lines' if PLUMBING == 'lines' else 'mllp'))
        deadline_wait('the connector to connect to the relay',
                      lambda: relay.connector_connected or connector.poll() is not None)
        messages = hl7_messages()
        acks = []
        client = hl7.client.MLLPClient('127.0.0.1', relay.in_port)  # connects at once
        try:
            client.socket.settimeout(STEP_TIMEOUT)  # a deadline, in case no ACK comes
            for m in messages:
                acks.append(client.send_message(m))
        finally:
            client.close()
        for m, a in zip(messages, acks):
            control_id = m.split('\r')[0].split('|')[9]
            if not (a.startswith(SB) and a.endswith(EB + CR) and f'MSA|AA|{control_id}'.encode() in a):
                raise Failure(f'the sender got an unexpected answer for {control_id}: {a!r}')
        deadline_wait('the relay to finish', lambda: relay.sender_done)
        if relay.errors:
            raise Failure('relay: ' + '; '.join(relay.errors))
        wire = b''.join(SB + m.encode('utf-8') + EB + CR for m in messages)
        expect_equal_bytes('MLLPClient sent', bytes(relay.received), wire)
        docs, logs = connector_results(tmp, connector)
        if PLUMBING == 'lines':  # no LF anywhere: one partial line when the relay closes
            expect_documents(docs, [wire.decode('utf-8')], want_partial=(0, ))
            expect_clean_disconnect(logs, wire, 1, partial=1)
        else:
            expect_documents(docs, messages)
            expect_clean_disconnect(logs, wire, len(messages))
        return f'{len(docs)} documents from {len(wire)} bytes, {len(acks)} ACKs'
    finally:
        relay.stop()


# HL7 over MLLP, acknowledged by the connector only after Flow committed (issue 16).

class Pipe:
    """Both ways between the sender (MLLPClient) and the connector: the sender's bytes go to the
    connector, the connector's (its ACKs) back to the sender; each direction is recorded with
    the time it arrived."""

    def __init__(self):
        self.lis_in, self.lis_out = listener(), listener()
        self.in_port, self.out_port = self.lis_in.getsockname()[1], self.lis_out.getsockname()[1]
        self.to_connector, self.to_sender = bytearray(), bytearray()
        self.ack_times = []  # monotonic time of each chunk the connector sent
        self.errors = []
        self.stopping = False
        self.socks = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._run, daemon=True).start()

    def _accept(self, lis):
        while not self.stopping:
            try:
                conn, _ = lis.accept()
                return conn
            except socket.timeout:
                continue
        return None

    def _pump(self, src, dst, record, times=None):
        try:
            src.settimeout(0.1)
            while not self.stopping:
                try:
                    chunk = src.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                with self.cond:
                    record += chunk
                    if times is not None:
                        times.append(time.monotonic())
                    self.cond.notify_all()
                dst.sendall(chunk)
        except OSError as e:
            if not self.stopping:
                self.errors.append(f'{type(e).__name__}: {e}')

    def _run(self):
        out = self._accept(self.lis_out)  # the connector dials first
        self.lis_out.close()
        if out is None:
            return
        with self.cond:
            self.socks['connector'] = out
            self.cond.notify_all()
        inc = self._accept(self.lis_in)
        self.lis_in.close()
        if inc is None:
            return
        self.socks['sender'] = inc
        back = threading.Thread(target=self._pump, args=(out, inc, self.to_sender, self.ack_times), daemon=True)
        back.start()
        self._pump(inc, out, self.to_connector)
        back.join(STEP_TIMEOUT)

    def stop(self):
        self.stopping = True
        for c in self.socks.values():
            try:
                c.close()
            except OSError:
                pass
        for lis in (self.lis_in, self.lis_out):
            lis.close()


def open_request(config):
    return json.dumps({'open': {
        'capture': {'name': 'acmeCo/hl7', 'connectorType': 'IMAGE', 'config': config,
                    'bindings': [{'resourceConfig': {'stream': 'hl7'}, 'resourcePath': ['hl7'],
                                  'stateKey': 'hl7.v1', 'collection': {'name': 'acmeCo/hl7', 'key': ['/position']},
                                  'backfill': 0}]},
        'version': '1', 'range': {'keyEnd': 4294967295, 'rClockEnd': 4294967295}, 'state': {}}}) + '\n'


def mllp_ack_after_commit_case(tmp, procs):
    """python3-hl7's MLLPClient sends each message and waits for its ACK; the connector (in Flow
    mode, this test playing the runtime) sends that ACK only after the runtime acknowledged the
    checkpoint holding the message. Each message is checked: no byte comes back before the
    acknowledge, then an ACK that python-hl7 parses, MSA|AA with the message's control id."""
    hl7 = hl7_module()
    SB, EB, CR = b'\x0b', b'\x1c', b'\r'
    pipe = Pipe()
    config = {
        'host': '127.0.0.1', 'port': pipe.out_port, 'codec': 'line', 'framing': {'type': 'mllp'},
        'reconnect_delay': 0.1, 'connection_timeout': 5,
        'position': {'pattern': 'MSH\\|(?:[^|\\r]*\\|){8}([^|\\r]*)', 'type': 'string'},
        'ack': {'message': '\\x0bMSH|^~\\\\&|CAPTURE|FLOW|||${time}||ACK|${position}|P|2.5\\r'
                           'MSA|AA|${position}\\r\\x1c\\r'},
    }
    log = open(os.path.join(tmp, 'connector.log'), 'wb')
    p = subprocess.Popen([os.environ['SOURCE_SOCKET']], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                         env=dict(os.environ, LOG_LEVEL='info'))
    procs.procs.append(('source-socket', p, log))  # stop_all ends it and closes the log
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in p.stdout], daemon=True).start()

    def next_line():
        try:
            return json.loads(lines.get(timeout=STEP_TIMEOUT))
        except queue.Empty:
            raise Failure('the connector wrote nothing for %.0f s' % STEP_TIMEOUT)

    try:
        p.stdin.write(open_request(config).encode())
        p.stdin.flush()
        if next_line() != {'opened': {'explicitAcknowledgements': True}}:
            raise Failure('opened did not ask for explicit acknowledgements')
        deadline_wait('the connector to connect', lambda: 'connector' in pipe.socks or p.poll() is not None)
        client = hl7.client.MLLPClient('127.0.0.1', pipe.in_port)
        client.socket.settimeout(STEP_TIMEOUT)
        messages = hl7_messages()
        committed = []
        try:
            for m in messages:
                control_id = m.split('\r')[0].split('|')[9]
                answer = {}
                sender = threading.Thread(target=lambda: answer.update(ack=client.send_message(m)), daemon=True)
                sender.start()
                doc = next_line()  # the message's document, then the checkpoint covering it
                if doc.get('captured', {}).get('doc', {}).get('position') != control_id:
                    raise Failure(f'expected the document of {control_id}, got {show(doc)}')
                checkpoint = next_line()
                state = checkpoint.get('checkpoint', {}).get('state', {}).get('updated', {})
                if state.get('bindingStateV1', {}).get('hl7.v1', {}).get('position') != control_id:
                    raise Failure(f'expected a checkpoint at {control_id}, got {show(checkpoint)}')
                time.sleep(0.3)  # the ACK must not come before the commit, however long it takes
                if len(pipe.to_sender) != len(b''.join(committed)):
                    raise Failure(f'{control_id} was acknowledged before its commit: {bytes(pipe.to_sender)!r}')
                committed_at = time.monotonic()
                p.stdin.write(b'{"acknowledge":{"checkpoints":1}}\n')
                p.stdin.flush()
                sender.join(STEP_TIMEOUT)
                if 'ack' not in answer:
                    raise Failure(f'no ACK for {control_id} after its commit')
                ack = answer['ack']
                if pipe.ack_times[-1] < committed_at:
                    raise Failure(f'the ACK of {control_id} arrived before the acknowledge was sent')
                parsed = hl7.parse(ack.strip(SB + EB + CR).decode('utf-8'))
                if not (ack.startswith(SB) and ack.endswith(EB + CR)) or str(parsed.segment('MSA')[1]) != 'AA' \
                        or str(parsed.segment('MSA')[2]) != control_id or str(parsed.segment('MSH')[9]) != 'ACK':
                    raise Failure(f'unexpected ACK for {control_id}: {ack!r}')
                committed.append(ack)
        finally:
            client.close()
        if pipe.errors:
            raise Failure('pipe: ' + '; '.join(pipe.errors))
        wire = b''.join(SB + m.encode('utf-8') + EB + CR for m in messages)
        expect_equal_bytes('MLLPClient sent', bytes(pipe.to_connector), wire)
        p.stdin.close()
        p.wait(STEP_TIMEOUT)
        if p.returncode != 0:
            raise Failure(f'the connector exited with {p.returncode}: {read(os.path.join(tmp, "connector.log"))}')
        stopped = [json.loads(l) for l in read(os.path.join(tmp, 'connector.log')).splitlines()
                   if '"capture stopped"' in l]
        if not stopped or stopped[-1].get('acks_sent') != len(messages) or stopped[-1].get('acks_dropped') != 0:
            raise Failure(f'capture stopped should count {len(messages)} acks sent, none dropped: {stopped}')
        return f'{len(messages)} messages, each ACKed only after its commit'
    finally:
        pipe.stop()


# --------------------------------------------------------------------------------------------

def main():
    if 'SOURCE_SOCKET' not in os.environ:
        print('FAIL: SOURCE_SOCKET is not set (run through meson test)')
        return 1
    require(shutil.which('rsyslogd'), 'rsyslog')
    require(glob.glob('/usr/lib/*/rsyslog/lmnsd_gtls.so') + glob.glob('/usr/lib/rsyslog/lmnsd_gtls.so'),
            'rsyslog-gnutls')
    require(hl7_module(), 'python3-hl7')
    require(shutil.which('openssl'), 'openssl')

    mode = 'LF-framed, lines (FEEDS_PLUMBING)' if PLUMBING == 'lines' else 'octet-counted'
    cases = [(f'rsyslog {mode}, plain', lambda t, p: rsyslog_case(t, p, tls=False)),
             (f'rsyslog {mode}, TLS', lambda t, p: rsyslog_case(t, p, tls=True)),
             ('HL7 MLLP from python3-hl7', mllp_case),
             ('HL7 MLLP, ACK after commit', mllp_ack_after_commit_case)]
    failed = 0
    for name, case in cases:
        start = time.monotonic()
        tmp = tempfile.mkdtemp(prefix='socketcap-feeds-')
        procs = Processes()
        try:
            summary = case(tmp, procs)
            print(f'ok   {name}: {summary} ({time.monotonic() - start:.1f} s)')
            if os.environ.get('FEEDS_KEEP'):
                print(f'     (files kept in {tmp})')
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        except Exception as e:
            failed += 1
            print(f'FAIL {name} ({time.monotonic() - start:.1f} s): {"" if isinstance(e, Failure) else type(e).__name__ + ": "}{e}')
            for log in ('rsyslogd.log', 'internal.log', 'connector.log'):
                text = read(os.path.join(tmp, log))
                if text:
                    print(f'--- {log} (last 3000 characters)\n{text[-3000:]}')
            print(f'(files kept in {tmp})')
        finally:
            procs.stop_all()
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
