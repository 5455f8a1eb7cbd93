"""pywinrm side of the benchmark: run the same workload against the same mock and print JSON timings.

usage: pywinrm_bench.py URL USER PASSWORD EXECUTES OUTPUT_BYTES [TRANSPORT]
TRANSPORT is basic (default) or ntlm (message encryption 'auto': sealed over HTTP).
"""
import json
import sys
import time

import winrm


def main():
    url, user, password, n, out_bytes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    transport = sys.argv[6] if len(sys.argv) > 6 else 'basic'
    s = winrm.Session(url, auth=(user, password), transport=transport, server_cert_validation='ignore',
                      operation_timeout_sec=20, read_timeout_sec=30)
    s.run_cmd('echo', ['warm'])
    t0 = time.perf_counter()
    for i in range(n):
        r = s.run_cmd('echo', [str(i)])
        if r.status_code != 0 or r.std_out.strip() != str(i).encode():
            raise SystemExit('unexpected output from pywinrm: %r' % (r.std_out,))
    exec_s = time.perf_counter() - t0
    result = {'executes': n, 'executeSeconds': exec_s}
    if out_bytes > 0:
        t0 = time.perf_counter()
        r = s.run_cmd('mock-output', [str(out_bytes)])
        if len(r.std_out) != out_bytes:
            raise SystemExit('pywinrm got %d bytes, expected %d' % (len(r.std_out), out_bytes))
        result['outputBytes'] = out_bytes
        result['outputSeconds'] = time.perf_counter() - t0
    print(json.dumps(result))


if __name__ == '__main__':
    main()
