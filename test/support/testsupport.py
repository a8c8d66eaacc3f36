# SPDX-License-Identifier: MIT OR Apache-2.0
"""What the Python tests (feeds, exactly_once, shards) share: a failure type, waiting with a
deadline, the merge patch the runtime reduces checkpoint states with, reading a log that may
not exist yet, and whether apt knows a package. A script imports it after putting this folder
on sys.path."""
import shutil
import subprocess
import time


class Failure(Exception):
    """A test's verdict: what was expected and what happened instead."""


def deadline_wait(what, predicate, timeout, interval=0.05):
    """Polls predicate() until it is true; Failure naming `what` (a text, or a callable that
    makes one at the time) after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise Failure(f'timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}')
        time.sleep(interval)


def merge_patch(target, patch):
    """RFC 7396, as the runtime reduces checkpoint states: a patch that is not an object
    replaces; null members delete."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def package_exists(pkg):
    """True when apt knows the package (installed or installable); None without apt."""
    if not shutil.which('apt-cache'):
        return None
    r = subprocess.run(['apt-cache', 'show', '--no-all-versions', pkg],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def read(path):
    """The text of a file (a process's log), '' while it does not exist."""
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''
