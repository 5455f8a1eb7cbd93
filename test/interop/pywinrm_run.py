"""Run commands against a WinRM endpoint with pywinrm's Session.run_cmd; print the results as JSON.

Usage: pywinrm_run.py URL USER PASSWORD OPERATION_TIMEOUT READ_TIMEOUT COMMAND [COMMAND...]
Environment: PYWINRM_TRANSPORT (basic | ntlm; default basic), PYWINRM_ENCRYPTION (auto | always | never;
default auto).
Each COMMAND is run with run_cmd (open shell, command, receive until Done, terminate, delete shell).
Output: one JSON object per line: {"command", "stdout_b64", "stderr_b64", "status_code"} or {"command", "error"}.
"""
import base64
import json
import os
import sys

import winrm


def main(argv):
    url, user, password, op_timeout, read_timeout = argv[1:6]
    session = winrm.Session(
        url,
        auth=(user, password),
        transport=os.environ.get('PYWINRM_TRANSPORT', 'basic'),
        message_encryption=os.environ.get('PYWINRM_ENCRYPTION', 'auto'),
        operation_timeout_sec=int(op_timeout),
        read_timeout_sec=int(read_timeout),
        server_cert_validation='ignore',
    )
    for command in argv[6:]:
        try:
            r = session.run_cmd(command)
            print(json.dumps({
                'command': command,
                'stdout_b64': base64.b64encode(r.std_out).decode('ascii'),
                'stderr_b64': base64.b64encode(r.std_err).decode('ascii'),
                'status_code': r.status_code,
            }), flush=True)
        except Exception as e:  # reported, not raised: the test names the failing command
            print(json.dumps({'command': command, 'error': '%s: %s' % (type(e).__name__, e)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
