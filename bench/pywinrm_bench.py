"""pywinrm side of the benchmark: run one workload against the mock and print JSON timings on stdout.

usage: pywinrm_bench.py URL USER PASSWORD MODE COUNT [TRANSPORT]

MODE
  runcmd  COUNT x Session.run_cmd('echo', [i]): open shell, command, receive, signal, delete shell (5 requests
          per call), how pywinrm's users call it.
  shell   one shell opened through Protocol and reused: COUNT x run_command, get_command_output,
          cleanup_command (3 requests per command), what a pywinrm expert writes.
  stdout  one Session.run_cmd('mock-output', [COUNT]) keeping its COUNT bytes of stdout; also reports the peak
          RSS growth during the call (ru_maxrss after it minus the RSS before it).
  threads COUNT commands over THREADS threads (default 32), each thread with its own Session and one reused
          shell (run_command, get_command_output, cleanup_command), how pywinrm runs commands concurrently
          (a Session is not shared between threads).
TRANSPORT is basic (default) or ntlm (message encryption 'auto': sealed over HTTP).
usage for threads: pywinrm_bench.py URL USER PASSWORD threads COUNT TRANSPORT THREADS

Before and after the measured part the script writes 'mark' on stderr and waits for a line on stdin, so the
caller can read counters (the latency proxy's request and connection counts) exactly around it; the warm-up
call and the shell's opening are outside the marks, like the Node side's warm-up execute.
"""
import json
import os
import resource
import sys
import threading
import time

import winrm


def mark():
    sys.stderr.write('mark\n')
    sys.stderr.flush()
    sys.stdin.readline()


def rss_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def check(out, i):
    if out.strip() != str(i).encode():
        raise SystemExit('unexpected output from pywinrm: %r' % (out,))


def main():
    url, user, password, mode, count = sys.argv[1:6]
    count = int(count)
    transport = sys.argv[6] if len(sys.argv) > 6 else 'basic'
    s = winrm.Session(url, auth=(user, password), transport=transport, server_cert_validation='ignore',
                      operation_timeout_sec=20, read_timeout_sec=30)
    s.run_cmd('echo', ['warm'])
    result = {'mode': mode, 'count': count}
    if mode == 'runcmd':
        mark()
        t0 = time.perf_counter()
        for i in range(count):
            r = s.run_cmd('echo', [str(i)])
            if r.status_code != 0:
                raise SystemExit('run_cmd exit code %d' % r.status_code)
            check(r.std_out, i)
        result['seconds'] = time.perf_counter() - t0
        mark()
    elif mode == 'shell':
        p = s.protocol
        shell = p.open_shell()
        try:
            cid = p.run_command(shell, 'echo', ['warm'])
            p.get_command_output(shell, cid)
            p.cleanup_command(shell, cid)
            mark()
            t0 = time.perf_counter()
            for i in range(count):
                cid = p.run_command(shell, 'echo', [str(i)])
                out, _err, code = p.get_command_output(shell, cid)
                p.cleanup_command(shell, cid)
                if code != 0:
                    raise SystemExit('exit code %d' % code)
                check(out, i)
            result['seconds'] = time.perf_counter() - t0
            mark()
        finally:
            p.close_shell(shell)
    elif mode == 'stdout':
        before = rss_bytes()
        mark()
        t0 = time.perf_counter()
        r = s.run_cmd('mock-output', [str(count)])
        result['seconds'] = time.perf_counter() - t0
        mark()
        if len(r.std_out) != count:
            raise SystemExit('pywinrm got %d bytes, expected %d' % (len(r.std_out), count))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result['rssGrowthBytes'] = max(0, peak - before)
    elif mode == 'threads':
        threads = int(sys.argv[7]) if len(sys.argv) > 7 else 32
        errors = []
        # Shells are opened before the mark (like the Node side's connection warm-up), commands after it.
        sessions = []
        for _ in range(threads):
            ts = winrm.Session(url, auth=(user, password), transport=transport, server_cert_validation='ignore',
                               operation_timeout_sec=20, read_timeout_sec=30)
            sessions.append((ts.protocol, ts.protocol.open_shell()))
        todo = list(range(count))
        lock = threading.Lock()

        def work(p, shell):
            try:
                while True:
                    with lock:
                        if not todo:
                            return
                        i = todo.pop()
                    cid = p.run_command(shell, 'echo', [str(i)])
                    out, _err, code = p.get_command_output(shell, cid)
                    p.cleanup_command(shell, cid)
                    if code != 0:
                        raise RuntimeError('exit code %d' % code)
                    check(out, i)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        mark()
        t0 = time.perf_counter()
        ts_ = [threading.Thread(target=work, args=pair) for pair in sessions]
        for t in ts_:
            t.start()
        for t in ts_:
            t.join()
        result['seconds'] = time.perf_counter() - t0
        mark()
        for p, shell in sessions:
            p.close_shell(shell)
        if errors:
            raise SystemExit('pywinrm threads failed: %s' % errors[0])
        result['threads'] = threads
    else:
        raise SystemExit('unknown mode %r' % mode)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
