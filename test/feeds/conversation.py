#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Issue 15: the connector talking to real servers no one here wrote, on loopback.

  redis MONITOR     redis-server (requirepass); on_connect AUTH ${password} + MONITOR; redis-cli
                    issues commands; the documents are MONITOR's lines
  redis heartbeat   the same server; heartbeat "PING ${session_id}" every second, seen by a second
                    MONITOR connection (the test's) with redis's own timestamps
  ngircd            on_connect NICK/USER/JOIN; a second client (the test's) posts to the channel;
                    a reply rule answers the server's PINGs with PONG (not captured) through
                    several PING rounds of a shortened PingTimeout
  ngircd, no reply  the negative control: the same config without the reply rule is dropped by the
                    server's ping timeout, so the case above can fail
  gpsd              gpsd reads NMEA from a loopback TCP source (the test's); on_connect
                    ?WATCH={"enable":true,"json":true} with the json codec; TPV and SKY reports

The redis MONITOR, ngircd and gpsd cases run the worked configs of docs/connector.md ("Talking to
the server") as written, but for host, port, password and the reconnect settings: the docs'
examples are what is tested.

Each server is started by the test from its Debian package with its own config in a temporary
directory, listening on 127.0.0.1 on a port chosen free just before (if another process takes it
first, the server fails to bind and the case tries another port; a server is only used once
/proc shows that its own process listens on that port). Every process is ended when its case
ends, failed or not. The connector runs `capture` with `reconnect_delay: 30`, so it never
reconnects within a case; the case ends it with SIGTERM, which logs the session's `disconnected`
line with its counts (`sent_messages`, `sent_bytes`).

Each case asserts, exactly and in order, every document the connector printed (where a server
puts a varying part in a line, such as redis's timestamp and client address, its shape is checked
with a regular expression and the rest exactly), the `disconnected` lines (count, reason, sent
messages and bytes) and, for redis, that the password never appears in the connector's log.

Needs redis-server, redis-tools, ngircd and gpsd (scripts/bootstrap installs them). A case is
skipped only when its package does not exist for this system (exit 77 when nothing failed but
something was skipped); a package merely not installed is a failure that says to run
scripts/bootstrap. CONVERSATION_KEEP=1 keeps each case's files; CONVERSATION_CASES=redis,gpsd
runs only the cases whose names start with those words.
"""

import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from feeds import STEP_TIMEOUT, Failure, Processes, deadline_wait, first_difference, package_exists, read, show

SKIP = 77
LOOPBACK = '127.0.0.1'
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'docs', 'connector.md')


class Skip(Exception):
    pass


def need(present, pkg):
    """Raises Skip when the package cannot exist here, Failure when it is merely not installed."""
    if present:
        return
    exists = package_exists(pkg)
    if exists is False or exists is None:
        raise Skip(f'needs the package {pkg}, which this system does not have '
                   f'({"apt does not know it" if exists is False else "no apt"})')
    raise Failure(f'the package {pkg} is not installed; run scripts/bootstrap')


# --------------------------------------------------------------------------------------------
# Servers on free loopback ports.

def free_port():
    """A port free right now; the server that is then given it may still lose it (see serve)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                target = os.readlink(f'/proc/{pid}/fd/{fd}')
            except OSError:
                continue
            if target.startswith('socket:['):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def holds(pid, port, listening=True):
    """True when process `pid` itself holds a TCP socket on 127.0.0.1:port (/proc/net/tcp),
    a listening one unless `listening` is False."""
    want = f'0100007F:{port:04X}'
    with open('/proc/net/tcp') as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    inodes = {r[9] for r in rows if r[1] == want and (r[3] == '0A' or not listening)}
    return bool(inodes & socket_inodes(pid))


def listens(pid, port):
    return holds(pid, port)


def serve(procs, tmp, name, argv_for_port, bind_failed, attempts=5):
    """Starts a server on a free port; returns (process, port). `argv_for_port(port)` gives the
    command line; `bind_failed(log text)` recognises the server's own "address in use" message,
    after which another port is tried (another process took the chosen one in between)."""
    log_path = os.path.join(tmp, f'{name}.log')
    for _ in range(attempts):
        port = free_port()
        p = procs.start(name, argv_for_port(port), log_path)
        deadline_wait(f'{name} to listen on {LOOPBACK}:{port}',
                      lambda: p.poll() is not None or listens(p.pid, port) or bind_failed(read(log_path)))
        if listens(p.pid, port):
            return p, port
        text = read(log_path)
        procs.stop(p)
        if not bind_failed(text):
            raise Failure(f'{name} did not start (exit status {p.returncode}):\n{text[-3000:]}')
    raise Failure(f'{name}: no free port in {attempts} attempts')


# --------------------------------------------------------------------------------------------
# The connector.

class Connector:
    """source-socket capture with `cfg` (a dict); stdout and stderr go to files in tmp."""

    def __init__(self, procs, tmp, cfg, name='connector', log_level='info'):
        self.tmp, self.name = tmp, name
        cfg_path = os.path.join(tmp, f'{name}.json')
        with open(cfg_path, 'w') as f:
            json.dump(cfg, f, indent=1)
        self.out_path = os.path.join(tmp, f'{name}.out')
        self.log_path = os.path.join(tmp, f'{name}.log')
        with open(self.out_path, 'wb') as out:
            self.p = procs.start(name, [os.environ['SOURCE_SOCKET'], 'capture', '--config', cfg_path],
                                 self.log_path, stdout=out, env=dict(os.environ, LOG_LEVEL=log_level))

    def _lines(self, path):
        with open(path, 'rb') as f:
            data = f.read()
        return data[:data.rfind(b'\n') + 1].splitlines()  # complete lines only

    def docs(self):
        return [json.loads(line) for line in self._lines(self.out_path) if line.strip()]

    def values(self):
        return [d.get('data', {}).get('value') for d in self.docs()]

    def logs(self):
        logs = []
        for line in self._lines(self.log_path):
            try:
                logs.append(json.loads(line))
            except ValueError:
                logs.append({'unparsed': line.decode('utf-8', 'replace')})
        return logs

    def log_lines(self, msg):
        return [line for line in self.logs() if line.get('msg') == msg]

    def wait(self, what, predicate, timeout=STEP_TIMEOUT):
        """Waits for predicate(self); fails at once if the connector exits meanwhile."""
        deadline_wait(lambda: f'{what}; the connector has printed {len(self.docs())} documents',
                      lambda: predicate(self) or self.p.poll() is not None, timeout=timeout)
        if not predicate(self):
            raise Failure(f'the connector exited with status {self.p.returncode} while waiting for {what}')

    def stop(self):
        """SIGTERM (a clean stop: the session's disconnected line is logged); returns (docs, logs)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure('the connector did not exit within 10 s of SIGTERM')
        if self.p.returncode != 0:
            raise Failure(f'the connector exited with status {self.p.returncode} after SIGTERM')
        return self.docs(), self.logs()


def base_config(port, **fields):
    cfg = {'host': LOOPBACK, 'port': port, 'codec': 'line', 'reconnect_delay': 30,
           'max_reconnect_attempts': 0, 'connection_timeout': 5}
    cfg.update(fields)
    return cfg


def worked_config(name):
    """A worked config of docs/connector.md ("Talking to the server"), the JSON block after
    `<!-- tested by test/feeds/conversation.py: NAME -->`, as written."""
    with open(DOC, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'<!-- tested by test/feeds/conversation\.py: ' + re.escape(name) + r' -->\n```json\n(.*?)```\n', text, re.S)
    if not m:
        raise Failure(f'docs/connector.md has no worked config marked "{name}"')
    try:
        return json.loads(m.group(1))
    except ValueError as e:
        raise Failure(f'docs/connector.md\'s worked config "{name}" is not valid JSON: {e}')


def tested_config(name, port, **fields):
    """The worked config with this test's host, port and reconnect settings (and `fields`)."""
    cfg = worked_config(name)
    cfg.update({k: v for k, v in base_config(port).items() if k not in ('codec', )}, **fields)
    return cfg


# --------------------------------------------------------------------------------------------
# Assertions that say what differed.

class Like:
    """An expected value that varies in a known place: `pattern` (a full match) must match, and
    `check(match)` may return a problem."""

    def __init__(self, pattern, what, check=None):
        self.rx, self.what, self.check = re.compile(pattern), what, check

    def problem(self, value):
        m = self.rx.fullmatch(value) if isinstance(value, str) else None
        if not m:
            return f'does not have the shape of {self.what}'
        return self.check(m) if self.check else None

    def __repr__(self):
        return f'<{self.what}>'


def expect_values(what, got, want):
    """got: a list of strings; want: strings (exact) and Like objects, in order."""
    problems = []
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g is None or w is None:
            problems.append(f'  {i + 1}: {"missing" if g is None else "not expected"}\n'
                            f'    got      {show(g) if g is not None else "-"}\n    expected {w!r}')
        elif isinstance(w, Like):
            p = w.problem(g)
            if p:
                problems.append(f'  {i + 1}: {p}\n    got      {show(g)}\n    expected {w!r}')
        elif g != w:
            j = first_difference(g, w) if isinstance(g, str) else 0
            problems.append(f'  {i + 1}: first difference at character {j}\n'
                            f'    got      {show(g[max(0, j - 40):j + 80]) if isinstance(g, str) else repr(g)}\n'
                            f'    expected {show(w[max(0, j - 40):j + 80])}')
        if len(problems) >= 8:
            problems.append('  ...')
            break
    if problems:
        raise Failure(f'{what}: {len(got)}, expected {len(want)}:\n' + '\n'.join(problems)
                      + '\n  all of them:\n' + '\n'.join(f'    {show(v)}' for v in got[:60]))


def expect_session(docs):
    """One session: one session_id, sequence 1..n."""
    sessions = {d.get('session_id') for d in docs}
    if len(sessions) != 1:
        raise Failure(f'expected the documents of one session, got session ids {sorted(map(str, sessions))}')
    seqs = [d.get('sequence') for d in docs]
    if seqs != list(range(1, len(docs) + 1)):
        raise Failure(f'sequence numbers {seqs}, expected 1 to {len(docs)}')
    errors = [d for d in docs if isinstance(d.get('data'), dict) and d['data'].get('_error')]
    if errors:
        raise Failure(f'error documents: {json.dumps(errors[0])[:500]}')
    return sessions.pop()


CLEAN = {'error_documents': 0, 'invalid_frames': 0, 'skipped_bytes': 0, 'partial_frames': 0,
         'replies': 0, 'uncaptured_frames': 0}


def crlf_bytes(values):
    """The bytes of lines that each ended with CR LF on the wire."""
    return sum(len(v.encode('utf-8')) + 2 for v in values)


def expect_disconnects(logs, want):
    """want: one dict per expected disconnected line, the fields it must have (exactly), beside
    CLEAN's unless overridden: no error documents, invalid frames, skipped bytes, partial frames,
    replies or frames left out by a reply rule."""
    disc = [line for line in logs if line.get('msg') == 'disconnected']
    if len(disc) != len(want):
        raise Failure(f'expected {len(want)} "disconnected" log line(s), got {len(disc)}; the log:\n'
                      + '\n'.join(json.dumps(line) for line in logs))
    for d, w in zip(disc, want):
        w = dict(CLEAN, **w)
        got = {k: d.get(k) for k in w}
        if got != w:
            raise Failure(f'"disconnected" has {got}, expected {w}; the line: {json.dumps(d)}')
    return disc


# --------------------------------------------------------------------------------------------
# Redis.

REDIS_PASSWORD = 'Pw-15_s3cret!x'


def redis_repr(arg):
    """A command argument as MONITOR prints it (sdscatrepr in redis's sds.c), quotes included."""
    out = []
    for b in arg.encode('utf-8'):
        c = chr(b)
        if c in '\\"':
            out.append('\\' + c)
        elif c in '\n\r\t\a\b':
            out.append({'\n': '\\n', '\r': '\\r', '\t': '\\t', '\a': '\\a', '\b': '\\b'}[c])
        elif 0x20 <= b < 0x7f:
            out.append(c)
        else:
            out.append(f'\\x{b:02x}')
    return '"' + ''.join(out) + '"'


def monitor_rx(command, address=None):
    """MONITOR's line for `command` (already in its printed form): `+<unix time>.<microseconds>
    [<db> <client address>] <command>`; any loopback client unless `address` is given."""
    client = re.escape(address) if address else r'127\.0\.0\.1:(\d{1,5})'
    return r'\+(\d{9,11})\.(\d{6}) \[0 ' + client + r'\] ' + re.escape(command)


def start_redis(procs, tmp):
    conf = os.path.join(tmp, 'redis.conf')
    with open(conf, 'w') as f:
        f.write(f'bind {LOOPBACK}\nprotected-mode yes\nsave ""\nappendonly no\ndir {tmp}\n'
                f'logfile ""\ndaemonize no\nsupervised no\nrequirepass {REDIS_PASSWORD}\n')
    return serve(procs, tmp, 'redis-server', lambda port: ['redis-server', conf, '--port', str(port)],
                 lambda log: 'Address already in use' in log)


def redis_monitor_case(tmp, procs):
    need(shutil.which('redis-server'), 'redis-server')
    need(shutil.which('redis-cli'), 'redis-tools')
    _, port = start_redis(procs, tmp)
    cfg = tested_config('redis', port, password=REDIS_PASSWORD)
    # LOG_LEVEL=trace: the password must not appear in the log at any level.
    conn = Connector(procs, tmp, cfg, log_level='trace')
    conn.wait('the AUTH and MONITOR replies', lambda c: len(c.docs()) >= 2)

    # Each command is one redis-cli run (argv, no shell): its AUTH, then the command. The
    # arguments have spaces, quotes, backslashes, control characters and UTF-8, which MONITOR
    # escapes; and what redis-cli printed (raw output, not a terminal) is checked too.
    commands = [
        (['SET', 'greeting', 'hello world'], 'OK'),
        (['SET', 'quote:1', 'she said "hi" \\o/'], 'OK'),
        (['SET', 'city', 'Köln, 東京 ✓'], 'OK'),
        (['LPUSH', 'queue', 'first', 'second item', ''], '3'),
        (['INCR', 'counter'], '1'),
        (['INCRBY', 'counter', '41'], '42'),
        (['HSET', 'h', 'field', 'two\nlines\tand a tab\x01'], '1'),
        (['GET', 'city'], 'Köln, 東京 ✓'),
        (['DEL', 'greeting', 'quote:1'], '2'),
    ]
    started = time.time()
    for argv, want in commands:
        r = subprocess.run(['redis-cli', '-h', LOOPBACK, '-p', str(port), '--no-auth-warning',
                            '-a', REDIS_PASSWORD] + argv, capture_output=True, timeout=STEP_TIMEOUT)
        out = r.stdout.decode('utf-8', 'replace').rstrip('\n')
        if r.returncode != 0 or out != want:
            raise Failure(f'redis-cli {argv!r} exited {r.returncode} and printed {out!r}, expected {want!r}; '
                          f'stderr: {r.stderr.decode(errors="replace")!r}')
    ended = time.time()
    n = 2 + 2 * len(commands)
    conn.wait(f'{n} documents', lambda c: len(c.docs()) >= n)
    time.sleep(0.2)  # anything beyond them would arrive now
    docs, logs = conn.stop()

    # Each line's timestamp within the commands' wall-clock span and in order; the AUTH and the
    # command of one redis-cli run from the same client port.
    stamps, ports = [], []

    def seen(m):
        t = int(m.group(1)) + int(m.group(2)) / 1e6
        stamps.append(t)
        ports.append(m.group(3))
        if not started - 2 <= t <= ended + 2:
            return f'its timestamp {t:.6f} is not within the commands\' span {started:.3f} to {ended:.3f}'
        return None

    want = ['+OK', '+OK']
    literal = '"SET" "city" "K\\xc3\\xb6ln, \\xe6\\x9d\\xb1\\xe4\\xba\\xac \\xe2\\x9c\\x93"'
    for argv, _ in commands:
        printed = ' '.join(redis_repr(a) for a in argv)
        if argv[1] == 'city' and argv[0] == 'SET' and printed != literal:  # redis_repr itself, once by hand
            raise Failure(f'redis_repr gives {printed!r}, expected {literal!r}')
        want += [Like(monitor_rx('"AUTH" "(redacted)"'), 'MONITOR line: AUTH (redacted)', seen),
                 Like(monitor_rx(printed), f'MONITOR line: {printed}', seen)]
    expect_values('documents', [d.get('data', {}).get('value') for d in docs], want)
    if stamps != sorted(stamps):
        raise Failure(f'MONITOR timestamps out of order: {stamps}')
    pairs = list(zip(ports[0::2], ports[1::2]))
    if any(a != b for a, b in pairs):
        raise Failure(f'an AUTH and its command came from different client ports: {pairs}')
    expect_session(docs)
    sent = [m.replace('${password}', REDIS_PASSWORD).encode() for m in cfg['on_connect']]
    values = [d['data']['value'] for d in docs]
    expect_disconnects(logs, [{'reason': 'the capture is stopping', 'documents': len(docs), 'bytes': crlf_bytes(values),
                               'sent_messages': 2, 'sent_bytes': sum(map(len, sent))}])
    for path in (conn.log_path, conn.out_path):
        with open(path, 'rb') as f:
            if REDIS_PASSWORD.encode() in f.read():
                raise Failure(f'the password appears in {os.path.basename(path)}')
    return f'{len(docs)} documents for {len(commands)} redis-cli commands; password in no output'


class RedisObserver:
    """The test's own MONITOR connection: (redis timestamp, client address, command) per line."""

    def __init__(self, port):
        self.sock = socket.create_connection((LOOPBACK, port), timeout=STEP_TIMEOUT)
        self.sock.sendall(f'AUTH {REDIS_PASSWORD}\r\nMONITOR\r\n'.encode())
        self.replies, self.lines, self.errors = [], [], []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        deadline_wait('the observer\'s MONITOR to start', lambda: len(self.replies) >= 2 or self.errors)
        if self.errors or self.replies != ['+OK', '+OK']:
            raise Failure(f'the observer\'s AUTH and MONITOR got {self.replies} {self.errors}')

    def _read(self):
        buf = b''
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                *complete, buf = buf.split(b'\r\n')
                with self.cond:
                    for line in complete:
                        text = line.decode('utf-8', 'replace')
                        m = re.fullmatch(r'\+(\d+\.\d{6}) \[0 (127\.0\.0\.1:\d+)\] (.*)', text)
                        if m:
                            self.lines.append((float(m.group(1)), m.group(2), m.group(3)))
                        else:
                            self.replies.append(text)
        except OSError as e:
            if self.sock.fileno() != -1:
                self.errors.append(str(e))

    def close(self):
        self.sock.close()


def redis_heartbeat_case(tmp, procs):
    need(shutil.which('redis-server'), 'redis-server')
    _, port = start_redis(procs, tmp)
    observer = RedisObserver(port)
    try:
        interval, window = 1, 3.5
        # The messages as a user types them into a form: backslash escapes, not JSON's.
        heartbeat = {'message': 'PING ${session_id}\\r\\n', 'interval': interval}
        conn = Connector(procs, tmp, base_config(port, on_connect=['AUTH ${password}\\r\\n', 'MONITOR\\r\\n'],
                                                 password=REDIS_PASSWORD, heartbeat=heartbeat))
        conn.wait('the AUTH and MONITOR replies', lambda c: len(c.docs()) >= 2)
        sid = conn.docs()[0]['session_id']

        def connectors_lines():  # the observer's lines from the connector's client address
            lines = list(observer.lines)
            # The connector's AUTH is the first line: the observer's own commands came before its
            # MONITOR, and MONITOR (an admin command) is never shown.
            return [x for x in lines if x[1] == lines[0][1]] if lines else []

        deadline_wait('the observer to see the connector\'s AUTH', lambda: len(connectors_lines()) >= 1)
        t_auth = connectors_lines()[0][0]
        # The window, then until one more heartbeat and the connector's documents for it: the
        # connector is stopped right after a heartbeat's reply, a whole interval before the next.
        time.sleep(window)
        k = len(connectors_lines()) - 1
        deadline_wait('one more heartbeat', lambda: len(connectors_lines()) - 1 > k, timeout=interval * 3)
        k = len(connectors_lines()) - 1
        conn.wait(f'the replies to {k} heartbeats', lambda c: len(c.docs()) >= 2 + 3 * k)
        docs, logs = conn.stop()
        time.sleep(0.3)
        lines = connectors_lines()
    finally:
        observer.close()

    want_cmd = f'"PING" "{sid}"'
    expect_values('commands the observer saw from the connector',
                  [cmd for _, _, cmd in lines], ['"AUTH" "(redacted)"'] + [want_cmd] * k)
    times = [t for t, _, _ in lines]  # AUTH (MONITOR follows it at once), then each heartbeat
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    in_window = [t for t in times[1:] if t <= t_auth + window]
    if not 2 <= len(in_window) <= 4:
        raise Failure(f'{len(in_window)} heartbeats in the {window} s after AUTH and MONITOR, expected 2 to 4 '
                      f'(interval {interval} s); gaps {gaps}')
    if not all(0.9 * interval <= g <= 2.0 * interval for g in gaps):
        raise Failure(f'gaps between the connector\'s writes {gaps} s, expected each '
                      f'{0.9 * interval:.1f} to {2.0 * interval:.1f} s (interval {interval} s)')

    # Each heartbeat's reply (a bulk string: length, then the session id), then MONITOR's line for
    # the connector's own PING: a monitoring client sees its own commands too, after their reply.
    own = Like(monitor_rx(want_cmd, lines[0][1]), f'MONITOR line: {want_cmd} from the connector itself')
    want = ['+OK', '+OK'] + ['$36', sid, own] * k
    expect_values('documents', [d.get('data', {}).get('value') for d in docs], want)
    expect_session(docs)
    expect_disconnects(logs, [{'reason': 'the capture is stopping', 'documents': len(docs),
                               'bytes': crlf_bytes(d['data']['value'] for d in docs), 'sent_messages': 2 + k,
                               'sent_bytes': len(f'AUTH {REDIS_PASSWORD}\r\nMONITOR\r\n') + k * len(f'PING {sid}\r\n')}])
    return f'{k} heartbeats, {len(in_window)} in the first {window} s, gaps {gaps} s'


# --------------------------------------------------------------------------------------------
# IRC: ngircd.

IRC_SERVER = 'irc.socketcap.test'
PING_TIMEOUT = 5  # ngircd's minimum for PingTimeout and PongTimeout ("too low" below 5)
MOTD = 'socketcap conversation test'


def start_ngircd(procs, tmp):
    conf = os.path.join(tmp, 'ngircd.conf')

    def argv(port):
        with open(conf, 'w') as f:
            f.write(f'''[Global]
\tName = {IRC_SERVER}
\tInfo = socketcap issue 15
\tAdminInfo1 = socketcap test suite
\tAdminInfo2 = loopback only
\tAdminEMail = nobody@{IRC_SERVER}
\tListen = {LOOPBACK}
\tPorts = {port}
\tMotdPhrase = {MOTD}
[Limits]
\tPingTimeout = {PING_TIMEOUT}
\tPongTimeout = {PING_TIMEOUT}
\tMaxConnectionsIP = 0
[Options]
\tDNS = no
\tIdent = no
\tPAM = no
''')
        return ['ngircd', '--nodaemon', '--passive', '--config', conf]

    return serve(procs, tmp, 'ngircd', argv, lambda log: 'Address already in use' in log)


class IrcClient:
    """The test's own IRC client: registers, answers PINGs, records every line."""

    def __init__(self, port, nick):
        self.nick = nick
        self.sock = socket.create_connection((LOOPBACK, port), timeout=STEP_TIMEOUT)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.send(f'NICK {nick}', f'USER {nick} 0 * :test client')
        self.wait_line(f' 376 {nick} ')

    def _read(self):
        buf = b''
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                *complete, buf = buf.split(b'\r\n')
                for line in complete:
                    text = line.decode('utf-8', 'replace')
                    if text.startswith('PING '):
                        self.sock.sendall(b'PONG ' + line[5:] + b'\r\n')
                    with self.lock:
                        self.lines.append(text)
        except OSError:
            pass

    def send(self, *lines):
        self.sock.sendall(b''.join(line.encode('utf-8') + b'\r\n' for line in lines))

    def wait_line(self, part):
        deadline_wait(f'{self.nick} to receive a line with {part!r}',
                      lambda: any(part in line for line in list(self.lines)))

    def close(self):
        self.sock.close()


def login_bytes(cfg, sid):
    """What the worked IRC config's on_connect sends (it registers as capbot, joins #feed and
    puts ${session_id} in the realname)."""
    return sum(len(m.replace('${session_id}', sid).encode()) for m in cfg['on_connect'])


def irc_registration(nick):
    """The lines ngircd sends a client from its welcome to the end of its MOTD: 001 exactly,
    then numerics to the nick, the MOTD line exactly, and the end of the MOTD."""
    first = f':{IRC_SERVER} 001 {nick} :Welcome to the Internet Relay Network {nick}!~{nick}@127.0.0.1'
    return first, f':{IRC_SERVER} 372 {nick} :- {MOTD}', f':{IRC_SERVER} 376 {nick} :End of MOTD command'


def expect_irc_session(values, nick, then):
    """values: every document's value; the registration block, then the JOIN, then `then`."""
    first, motd, end = irc_registration(nick)
    if end not in values:
        raise Failure(f'no end of MOTD ({end!r}) among the documents: {values[:40]}')
    n = values.index(end) + 1
    numeric = Like(rf':{re.escape(IRC_SERVER)} \d{{3}} {nick} .*', f'a numeric reply to {nick}')
    block = [first] + [motd if v == motd else numeric for v in values[1:n - 1]] + [end]
    if motd not in values[:n]:
        raise Failure(f'the MOTD line {motd!r} is not in the registration block {values[:n]}')
    expect_values('documents', values, block + [
        f':{nick}!~{nick}@127.0.0.1 JOIN :#feed',
        f':{IRC_SERVER} 353 {nick} = #feed :@{nick}',
        f':{IRC_SERVER} 366 {nick} #feed :End of NAMES list'] + then)


def irc_case(tmp, procs):
    need(shutil.which('ngircd'), 'ngircd')
    _, port = start_ngircd(procs, tmp)
    cfg = tested_config('irc', port)
    conn = Connector(procs, tmp, cfg)
    joined = f':{IRC_SERVER} 366 capbot #feed :End of NAMES list'
    conn.wait('capbot to join #feed', lambda c: joined in c.values())
    alice = IrcClient(port, 'alice')
    try:
        alice.send('JOIN #feed')
        alice.wait_line(' 366 alice #feed ')
        before = ['good morning', 'Grüße aus Köln, 東京から ✓', 'PING :not a server ping, only text',
                  'quotes "double" \'single\' and a \\ backslash']
        after = ['still here after the PINGs', 'last line']
        prefix = ':alice!~alice@127.0.0.1 PRIVMSG #feed :'
        alice.send(*[f'PRIVMSG #feed :{m}' for m in before])
        conn.wait('the first messages', lambda c: prefix + before[-1] in c.values())

        # Several of the server's PING rounds: it pings a client after PING_TIMEOUT seconds
        # without data from it and drops it PING_TIMEOUT seconds after an unanswered PING
        # (checked once a second). Nothing may disconnect meanwhile.
        quiet = 3 * (PING_TIMEOUT + 1) + 2
        end = time.monotonic() + quiet
        while time.monotonic() < end:
            if conn.log_lines('disconnected') or conn.p.poll() is not None:
                raise Failure(f'the connector disconnected during the PING rounds: {conn.log_lines("disconnected")}')
            time.sleep(0.1)
        alice.send(*[f'PRIVMSG #feed :{m}' for m in after])
        # ${session_id} in capbot's USER line: the server's own record of it, by WHOIS.
        alice.send('WHOIS capbot')
        alice.wait_line(' 311 alice capbot ')
        whois = [line for line in alice.lines if ' 311 alice capbot ' in line]
        alice.send('QUIT :done for today')
        quit_line = ':alice!~alice@127.0.0.1 QUIT :"done for today"'  # ngircd quotes a client's reason
        conn.wait('alice\'s QUIT', lambda c: quit_line in c.values())
    finally:
        alice.close()
    docs, logs = conn.stop()
    values = [d.get('data', {}).get('value') for d in docs]
    expect_irc_session(values, 'capbot', [':alice!~alice@127.0.0.1 JOIN :#feed']
                       + [prefix + m for m in before + after] + [quit_line])
    expect_session(docs)
    sid = docs[0]['session_id']
    want_whois = f':{IRC_SERVER} 311 alice capbot ~capbot 127.0.0.1 * :socketcap {sid}'
    if whois != [want_whois]:
        raise Failure(f'alice\'s WHOIS capbot: {whois}, expected [{want_whois!r}]')
    # The PINGs are in no document; the log counts them: each one a frame received (bytes), a
    # reply (replies, sent_messages, sent_bytes) and a frame kept out (uncaptured_frames).
    disc = [line for line in logs if line.get('msg') == 'disconnected']
    n = disc[0].get('replies', 0) if len(disc) == 1 else 0
    if n < 2:
        raise Failure(f'the connector answered {n} PINGs in {quiet} s, expected at least 2: {disc}')
    expect_disconnects(logs, [{
        'reason': 'the capture is stopping', 'documents': len(docs),
        'bytes': crlf_bytes(values) + n * len(f'PING :{IRC_SERVER}\r\n'),
        'replies': n, 'uncaptured_frames': n, 'sent_messages': len(cfg['on_connect']) + n,
        'sent_bytes': login_bytes(cfg, sid) + n * len(f'PONG :{IRC_SERVER}\r\n')}])
    return f'{len(docs)} documents; {n} PINGs answered in {quiet} s without a disconnect'


def irc_no_reply_case(tmp, procs):
    need(shutil.which('ngircd'), 'ngircd')
    _, port = start_ngircd(procs, tmp)
    cfg = tested_config('irc', port)
    del cfg['replies']
    conn = Connector(procs, tmp, cfg)
    joined = f':{IRC_SERVER} 366 capbot #feed :End of NAMES list'
    conn.wait('capbot to join #feed', lambda c: joined in c.values())
    t_joined = time.monotonic()
    limit = 2 * PING_TIMEOUT + 10
    conn.wait('the server to drop the connection', lambda c: c.log_lines('disconnected'), timeout=limit)
    dropped_after = time.monotonic() - t_joined
    docs, logs = conn.stop()
    values = [d.get('data', {}).get('value') for d in docs]
    expect_irc_session(values, 'capbot', [
        f'PING :{IRC_SERVER}',
        Like(rf':{re.escape(IRC_SERVER)} NOTICE capbot :Connection statistics: client \d+\.\d kb, server \d+\.\d kb\.',
             'ngircd\'s closing NOTICE with the connection\'s statistics'),
        f'ERROR :Ping timeout: {PING_TIMEOUT} seconds'])
    expect_session(docs)
    expect_disconnects(logs, [{'reason': 'the server closed the connection', 'documents': len(docs),
                               'bytes': crlf_bytes(values), 'sent_messages': len(cfg['on_connect']),
                               'sent_bytes': login_bytes(cfg, docs[0]['session_id'])}])
    if dropped_after < 2 * PING_TIMEOUT - 1:
        raise Failure(f'dropped {dropped_after:.1f} s after joining, sooner than a ping timeout allows')
    return f'dropped by the server\'s ping timeout {dropped_after:.1f} s after joining, as expected'


# --------------------------------------------------------------------------------------------
# gpsd, reading NMEA 0183 from the test over loopback TCP.

def nmea(body):
    checksum = functools.reduce(lambda a, b: a ^ b, body.encode('ascii'), 0)
    return f'${body}*{checksum:02X}\r\n'.encode('ascii')


def nmea_epoch(second):
    """One fix, as a receiver sends it once a second: RMC, GGA, GSA and two GSV sentences."""
    t = f'1200{second:02d}.00'
    return b''.join([
        nmea(f'GPRMC,{t},A,4807.038,N,01131.000,E,022.4,084.4,150624,003.1,W'),
        nmea(f'GPGGA,{t},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'),
        nmea('GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1'),
        nmea('GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45'),
        nmea('GPGSV,2,2,08,04,30,045,42,05,50,120,44,09,60,200,40,24,10,010,35'),
    ])


def gpsd_case(tmp, procs):
    need(shutil.which('gpsd'), 'gpsd')
    source = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    source.bind((LOOPBACK, 0))
    source.listen(4)
    source.settimeout(STEP_TIMEOUT)
    feed = None
    try:
        src = f'tcp://127.0.0.1:{source.getsockname()[1]}'
        # -N foreground, -n open the source now, -b read-only; gpsd listens on loopback by default
        # (and keeps running on ::1 alone when its IPv4 port is taken: "can't bind", another port).
        gpsd, port = serve(procs, tmp, 'gpsd', lambda port: ['gpsd', '-N', '-n', '-b', '-S', str(port), src],
                           lambda log: "can't bind" in log)
        while feed is None:  # gpsd's connection (not one of a gpsd that lost its port and was ended)
            conn_, peer = source.accept()
            if holds(gpsd.pid, peer[1], listening=False):
                feed = conn_
            else:
                conn_.close()
        cfg = tested_config('gpsd', port)
        conn = Connector(procs, tmp, cfg)

        def classes(c):
            return [d.get('data', {}).get('class') for d in c.docs()]

        conn.wait('VERSION, DEVICES and WATCH', lambda c: len(c.docs()) >= 3)
        epochs = 4
        for second in range(epochs):
            feed.sendall(nmea_epoch(second))
            conn.wait(f'the sky view of fix {second + 1}', lambda c: classes(c).count('SKY') > second)
        time.sleep(0.3)
        docs, logs = conn.stop()
    finally:
        if feed:
            feed.close()
        source.close()

    got = [d.get('data', {}).get('class') for d in docs]
    want = ['VERSION', 'DEVICES', 'WATCH', 'DEVICE', 'TPV', 'TPV', 'TPV', 'SKY'] + ['TPV', 'SKY'] * (epochs - 1)
    expect_values('document classes', got, want)
    data = [d['data'] for d in docs]
    problems = []

    def expect(i, key, value):
        if data[i].get(key) != value:
            problems.append(f'document {i + 1} ({data[i].get("class")}): {key} is {data[i].get(key)!r}, expected {value!r}')

    expect(0, 'proto_major', 3)
    devices = data[1].get('devices') or [{}]
    if [d.get('path') for d in devices] != [src]:
        problems.append(f'DEVICES lists {devices}, expected the one source {src}')
    for key, value in (('enable', True), ('json', True), ('nmea', False)):
        expect(2, key, value)
    expect(3, 'path', src)
    expect(3, 'driver', 'NMEA0183')
    # The first fix: gpsd learns the receiver's cycle, reporting after RMC (2D), GGA and GSA (3D).
    for i, mode in zip((4, 5, 6), (2, 3, 3)):
        expect(i, 'mode', mode)
        expect(i, 'time', '2024-06-15T12:00:00.000Z')
    tpvs = [5, 6] + [8 + 2 * e for e in range(epochs - 1)]
    for i in tpvs:
        for key, value in (('device', src), ('mode', 3), ('lat', 48.1173), ('lon', 11.516666667),
                           ('altMSL', 545.4), ('track', 84.4), ('magvar', -3.1), ('speed', 11.524)):
            expect(i, key, value)
    for e in range(1, epochs):
        expect(8 + 2 * (e - 1), 'time', f'2024-06-15T12:00:{e:02d}.000Z')
    for i in [7] + [9 + 2 * e for e in range(epochs - 1)]:
        for key, value in (('device', src), ('nSat', 8), ('uSat', 5), ('hdop', 1.3), ('vdop', 2.1), ('pdop', 2.5)):
            expect(i, key, value)
        sats = [(s.get('PRN'), s.get('el'), s.get('az'), s.get('ss'), s.get('used')) for s in data[i].get('satellites', [])]
        want_sats = [(1, 40.0, 83.0, 46.0, False), (2, 17.0, 308.0, 41.0, False), (12, 7.0, 344.0, 39.0, True),
                     (14, 22.0, 228.0, 45.0, False), (4, 30.0, 45.0, 42.0, True), (5, 50.0, 120.0, 44.0, True),
                     (9, 60.0, 200.0, 40.0, True), (24, 10.0, 10.0, 35.0, True)]
        if sats != want_sats:
            problems.append(f'document {i + 1} (SKY): satellites {sats}, expected {want_sats}')
    if problems:
        raise Failure('gpsd reports:\n  ' + '\n  '.join(problems[:10]))
    expect_session(docs)
    expect_disconnects(logs, [{'reason': 'the capture is stopping', 'documents': len(docs),
                               'sent_messages': 1, 'sent_bytes': len(cfg['on_connect'][0])}])
    return f'{len(docs)} documents for {epochs} fixes ({got.count("TPV")} TPV, {got.count("SKY")} SKY)'


# --------------------------------------------------------------------------------------------

CASES = [
    ('redis MONITOR with AUTH (redis-server, redis-cli)', redis_monitor_case),
    ('redis heartbeat seen by a second MONITOR', redis_heartbeat_case),
    ('ngircd: login, join, messages across PING rounds', irc_case),
    ('ngircd without the PONG rule: dropped by ping timeout (negative control)', irc_no_reply_case),
    ('gpsd WATCH, NMEA over loopback TCP', gpsd_case),
]


def main():
    if 'SOURCE_SOCKET' not in os.environ:
        print('FAIL: SOURCE_SOCKET is not set (run through meson test)')
        return 1
    only = [w for w in os.environ.get('CONVERSATION_CASES', '').split(',') if w]
    failed = skipped = 0
    for name, case in CASES:
        if only and not any(name.startswith(w) for w in only):
            continue
        start = time.monotonic()
        tmp = tempfile.mkdtemp(prefix='socketcap-conversation-')
        procs = Processes()
        keep = bool(os.environ.get('CONVERSATION_KEEP'))
        try:
            summary = case(tmp, procs)
            print(f'ok   {name}: {summary} ({time.monotonic() - start:.1f} s)')
        except Skip as e:
            skipped += 1
            print(f'SKIP {name}: {e}')
        except Exception as e:
            failed += 1
            keep = True
            print(f'FAIL {name} ({time.monotonic() - start:.1f} s): {"" if isinstance(e, Failure) else type(e).__name__ + ": "}{e}')
            for log in sorted(os.listdir(tmp)):
                if log.endswith('.log'):
                    text = read(os.path.join(tmp, log))
                    if text:
                        print(f'--- {log} (last 3000 characters)\n{text[-3000:]}')
        finally:
            procs.stop_all()
        if keep:
            print(f'     (files kept in {tmp})')
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        sys.stdout.flush()
    return 1 if failed else SKIP if skipped else 0


if __name__ == '__main__':
    sys.exit(main())
