# SPDX-License-Identifier: GPL-3.0-or-later
"""Running npyview-cli and reporting failures, for the tests in this folder."""

import os
import shlex
import signal
import subprocess
import sys
import threading
import time

# Anything in stderr that means the program went wrong inside, whatever its
# exit status says (sanitizers exit 1 by default; GLib criticals are bugs).
BUG_MARKERS = ('runtime error:', 'AddressSanitizer', 'LeakSanitizer',
               'UndefinedBehaviorSanitizer', 'MemorySanitizer',
               'ThreadSanitizer', '-CRITICAL **', '-ERROR **', 'Bail out!')

DEFAULT_TIMEOUT = 30.0


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))


def add_cli_argument(parser):
    parser.add_argument(
        '--cli', default=os.environ.get('NPYVIEW_CLI') or os.path.join(
            repo_root(), '_build', 'app', 'cli', 'npyview-cli'),
        help='the npyview-cli executable (default: $NPYVIEW_CLI or '
             '_build/app/cli/npyview-cli)')
    parser.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT,
                        help='seconds allowed for one CLI invocation')


def require_cli(path):
    """The absolute path of the CLI; exits with status 1 (loudly) when it is
    not there, so a missing program never passes."""
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        print(f'FAIL: npyview-cli not found or not executable: {path!r} '
              '(build it, or pass --cli PATH)', flush=True)
        sys.exit(1)
    return os.path.abspath(path)


class Result:
    def __init__(self, argv, display, rc, out, err, elapsed, timed_out):
        self.argv = argv
        self.display = display
        self.rc = rc
        self.out = out
        self.err = err
        self.elapsed = elapsed
        self.timed_out = timed_out

    @property
    def err_text(self):
        return self.err.decode('utf-8', 'replace')

    @property
    def out_text(self):
        return self.out.decode('utf-8', 'replace')

    def err_lines(self):
        return [ln for ln in self.err_text.splitlines()]

    def health(self):
        """Problems that are failures whatever the command was meant to do:
        timeout, crash signal, sanitizer reports, GLib criticals."""
        probs = []
        if self.timed_out:
            probs.append(f'did not finish within {self.elapsed:.0f} s '
                         '(killed)')
        elif self.rc is not None and self.rc < 0:
            try:
                name = signal.Signals(-self.rc).name
            except ValueError:
                name = str(-self.rc)
            probs.append(f'CRASHED with signal {name}; stderr: '
                         f'{short(self.err_text)!r}')
        text = self.err_text
        for m in BUG_MARKERS:
            if m in text:
                k = text.index(m)
                probs.append(f'stderr reports {m!r}: '
                             f'{short(text[max(0, k - 80):k + 300])!r}')
                break
        return probs


def short(s, n=300):
    s = s.strip()
    return s if len(s) <= n else s[:n] + '…'


class Runner:
    """Runs the CLI; display() rewrites temporary paths for messages."""

    def __init__(self, cli, timeout, replacements=()):
        self.cli = cli
        self.timeout = timeout
        self.replacements = list(replacements)
        self.count = 0
        self._lock = threading.Lock()

    def display(self, args):
        words = []
        for a in args:
            for old, new in self.replacements:
                a = a.replace(old, new)
            words.append(a)
        return 'npyview-cli ' + shlex.join(words)

    def run(self, args, timeout=None, stdin=subprocess.DEVNULL):
        argv = [self.cli] + list(args)
        t0 = time.monotonic()
        limit = timeout or self.timeout
        with self._lock:
            self.count += 1
        try:
            p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE,
                                 start_new_session=True)
        except OSError as exc:
            return Result(argv, self.display(args), None, b'',
                          f'cannot start: {exc}'.encode(), 0, False)
        try:
            out, err = p.communicate(timeout=limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            out, err = p.communicate()
            timed_out = True
        return Result(argv, self.display(args), p.returncode, out, err,
                      time.monotonic() - t0, timed_out)


class Report:
    """Collects failures: one line each, then a summary."""

    def __init__(self, title):
        self.title = title
        self.failures = []
        self.checks = 0
        self.skips = []
        self._lock = threading.Lock()

    def check(self, ok, where, cmd, message):
        with self._lock:
            self.checks += 1
            if not ok:
                self.failures.append(f'FAIL {where}: {cmd}: {message}')
        return ok

    def fail(self, where, cmd, message):
        return self.check(False, where, cmd, message)

    def ok(self):
        with self._lock:
            self.checks += 1

    def skip(self, message):
        with self._lock:
            self.skips.append(message)

    def health(self, where, res):
        """Fails for a timeout/crash/sanitizer; returns True if healthy."""
        probs = res.health()
        for p in probs:
            self.fail(where, res.display, p)
        if not probs:
            self.ok()
        return not probs

    def finish(self, runs, elapsed):
        for line in sorted(self.failures):
            print(line)
        for s in dict.fromkeys(self.skips):
            print(f'note: {s}')
        status = 'FAILED' if self.failures else 'passed'
        print(f'{self.title}: {status}: {len(self.failures)} failures in '
              f'{self.checks} checks, {runs} CLI runs, {elapsed:.1f} s')
        return 1 if self.failures else 0
