#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""A small Python stand-in for source-socket's exactly-once features (issue 16), for the crash
test's own tests: `crash_test.py --self-test` runs the crash test against it, once as written (must
pass) and once per deliberate bug below (each must fail). That proves the crash test can see the
mistakes it is meant to catch; it is not a reference for the real connector's document format.

Speaks the Flow protocol on stdin/stdout like source-socket without arguments: `open` in, `opened`
with explicitAcknowledgements, then `captured`/`checkpoint` out and `acknowledge` in. Endpoint
config it understands: host, port, reconnect_delay, on_connect (with ${position},
${next_position}, ${session_id}), position.pattern (Python `re`, group 1, integer), ack.message
(${position}) with per "frame" or "checkpoint". Lines only (`codec: line`); a partial last line is
dropped (it has no position the stand-in would trust).

STANDIN_BUG selects a mistake (for the self-test):
  ack-early        sends each frame's ack as soon as the frame is read, before any commit
  resume-skip      asks the server to resume one position too far (${next_position} + 1)
  resume-emitted   after a restart resumes after the last position it *received* in the previous
                   run (kept in a file in $STANDIN_DIR), not the committed one from open.state
  ack-any-conn     sends acks of a closed connection's frames on the next connection
"""

import json
import os
import re
import socket
import sys
import threading
import time
import uuid

BUG = os.environ.get('STANDIN_BUG', '')
out_lock = threading.Lock()


def emit(msg):
    with out_lock:
        sys.stdout.write(json.dumps(msg, ensure_ascii=False, separators=(',', ':')) + '\n')
        sys.stdout.flush()


def log(level, msg, **fields):
    sys.stderr.write(json.dumps(dict(level=level, msg=msg, **fields)) + '\n')
    sys.stderr.flush()


def render(template, values):
    s = template.encode().decode('unicode_escape')
    return re.sub(r'\$\{(\w+)\}', lambda m: str(values.get(m.group(1), '')), s)


class Standin:
    def __init__(self, open_msg):
        cap = open_msg['capture']
        self.cfg = cap['config']
        b = cap['bindings'][0]
        self.state_key = b.get('stateKey') or b['resourceConfig']['stream']
        st = (open_msg.get('state') or {}).get('bindingStateV1', {}).get(self.state_key, {})
        self.position = st.get('position')  # last emitted in this run, else committed
        if BUG == 'resume-emitted' and os.path.exists(self.memo()):
            with open(self.memo()) as f:
                self.position = int(f.read())
        self.documents = st.get('documents', 0)
        self.pattern = re.compile(self.cfg['position']['pattern'])
        self.ack = self.cfg.get('ack')
        self.lock = threading.Lock()
        self.unacked = []  # per emitted checkpoint: [(conn, bytes)]
        self.conn = None

    def memo(self):
        return os.path.join(os.environ['STANDIN_DIR'], 'received-position')

    def acknowledged(self, n):
        with self.lock:
            done, self.unacked = self.unacked[:n], self.unacked[n:]
            for acks in done:
                for conn, data in acks:
                    if conn is self.conn or BUG == 'ack-any-conn':
                        try:
                            self.conn.sendall(data)
                        except OSError:
                            pass

    def stdin_loop(self):
        for line in sys.stdin:
            msg = json.loads(line)
            if 'acknowledge' in msg:
                self.acknowledged(msg['acknowledge'].get('checkpoints', 1))
        os._exit(0)  # stdin closed: the session is over

    def session(self, s):
        sid = str(uuid.uuid4())
        nxt = 1 if self.position is None else self.position + 1
        if BUG == 'resume-skip' and self.position is not None:
            nxt += 1
        for m in self.cfg.get('on_connect', []):
            s.sendall(render(m, {'position': '' if self.position is None else self.position,
                                 'next_position': nxt, 'session_id': sid}).encode())
        buf, seq = b'', 0
        while True:
            data = s.recv(65536)
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b'\n')
            if not lines:
                continue
            acks = []
            for raw in lines:
                text = raw.decode('utf-8', 'replace')
                pos = int(self.pattern.search(text).group(1))
                seq += 1
                self.documents += 1
                emit({'captured': {'binding': 0, 'doc': {
                    'data': {'value': text}, 'raw': text, 'sequence': seq, 'session_id': sid, 'position': pos}}})
                self.position = pos
                if BUG == 'resume-emitted':
                    with open(self.memo() + '.new', 'w') as f:
                        f.write(str(pos))
                    os.replace(self.memo() + '.new', self.memo())  # a SIGKILL never leaves it torn
                if self.ack:
                    data = render(self.ack['message'], {'position': pos}).encode()
                    if BUG == 'ack-early':
                        s.sendall(data)
                    elif self.ack.get('per', 'frame') == 'frame' or not acks:
                        acks.append((s, data))
                    else:
                        acks[0] = (s, data)
            with self.lock:
                self.unacked.append(acks)
            emit({'checkpoint': {'state': {'updated': {'bindingStateV1': {self.state_key: {
                'session_id': sid, 'sequence': seq, 'documents': self.documents, 'position': self.position}}},
                'mergePatch': True}}})

    def run(self):
        threading.Thread(target=self.stdin_loop, daemon=True).start()
        while True:
            try:
                s = socket.create_connection((self.cfg['host'], self.cfg['port']), timeout=5)
                s.settimeout(None)
                with self.lock:
                    self.conn = s
                log('info', 'connected')
                self.session(s)
                log('info', 'disconnected', reason='the server closed the connection')
            except OSError as e:
                log('warn', 'connection failed', error=str(e))
            time.sleep(self.cfg.get('reconnect_delay', 5.0))


def main():
    first = sys.stdin.readline()
    open_msg = json.loads(first)['open']
    emit({'opened': {'explicitAcknowledgements': True}})
    Standin(open_msg).run()


if __name__ == '__main__':
    main()
