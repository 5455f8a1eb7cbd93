"""An independent SPNEGO/NTLM initiator for the mock: MIT's SPNEGO (python3-gssapi) wrapping gss-ntlmssp's NTLM.

Usage: gss_ntlmssp_run.py URL 'DOMAIN\\user'
The password comes from the NTLM_USER_FILE (DOMAIN:USER:PASSWORD lines) the caller points the environment at.
Authenticates with `Authorization: Negotiate` on one HTTP connection (the last leg with an empty body, as
pywinrm's setup_encryption does), then sends one Identify sealed with GSS wrap in the [MS-WSMV] 2.2.9.1
multipart/encrypted framing and unwraps the sealed answer. Prints one JSON object: the tokens of every leg
(base64, for the test to decode), the statuses, and the unwrapped answer.
"""
import base64
import http.client
import json
import struct
import sys
import urllib.parse

import gssapi
import gssapi.raw as graw

SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')
NTLM = gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10')
SOAP = 'application/soap+xml;charset=UTF-8'
BOUNDARY = 'Encrypted Boundary'
PROTOCOL = 'application/HTTP-SPNEGO-session-encrypted'
IDENTIFY = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
    '<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>'
).encode()


def negotiate_token(response):
    for name, value in response.getheaders():
        if name.lower() == 'www-authenticate' and value.startswith('Negotiate '):
            return base64.b64decode(value[len('Negotiate '):])
    return None


def frame(sealed, length):
    head = (
        f'--{BOUNDARY}\r\n\tContent-Type: {PROTOCOL}\r\n'
        f'\tOriginalContent: type={SOAP};Length={length}\r\n'
        f'--{BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n'
    ).encode()
    return head + sealed + f'--{BOUNDARY}--\r\n'.encode()


def unframe(body):
    marker = b'application/octet-stream\r\n'
    start = body.index(marker) + len(marker)
    end = body.rindex(f'--{BOUNDARY}--'.encode())
    payload = body[start:end]
    (sig_len,) = struct.unpack('<I', payload[:4])
    return payload[4:4 + sig_len] + payload[4 + sig_len:]


def main():
    url, user = sys.argv[1], sys.argv[2]
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    creds = gssapi.Credentials(name=gssapi.Name(user, gssapi.NameType.user), usage='initiate', mechs=[SPNEGO])
    # Offer NTLM only, so the test does not depend on whether a Kerberos ticket cache happens to exist.
    graw.set_neg_mechs(creds, [NTLM])
    flags = (
        gssapi.RequirementFlag.integrity
        | gssapi.RequirementFlag.confidentiality
        | gssapi.RequirementFlag.replay_detection
        | gssapi.RequirementFlag.out_of_sequence_detection
    )
    ctx = gssapi.SecurityContext(
        name=gssapi.Name(f'HTTP@{parts.hostname}', gssapi.NameType.hostbased_service),
        creds=creds,
        mech=SPNEGO,
        usage='initiate',
        flags=flags,
    )
    out = {'sent': [], 'received': [], 'statuses': []}
    token = ctx.step()
    while True:
        out['sent'].append(base64.b64encode(token).decode())
        conn.request('POST', parts.path, body=b'', headers={
            'Authorization': 'Negotiate ' + base64.b64encode(token).decode(),
            'Content-Type': SOAP,
            'Content-Length': '0',
        })
        res = conn.getresponse()
        res.read()
        out['statuses'].append(res.status)
        answer = negotiate_token(res)
        out['received'].append(base64.b64encode(answer).decode() if answer else None)
        if res.status == 200:
            if answer is not None:
                ctx.step(answer)
            break
        if res.status != 401 or answer is None or len(out['sent']) > 4:
            raise SystemExit(json.dumps({**out, 'error': f'handshake stopped at HTTP {res.status}'}))
        token = ctx.step(answer)
    out['complete'] = ctx.complete
    out['mech'] = str(ctx.mech)

    sealed = ctx.wrap(IDENTIFY, True).message
    body = frame(struct.pack('<I', 16) + sealed, len(IDENTIFY))
    conn.request('POST', parts.path, body=body, headers={
        'Content-Type': f'multipart/encrypted;protocol="{PROTOCOL}";boundary="{BOUNDARY}"',
        'Content-Length': str(len(body)),
    })
    res = conn.getresponse()
    data = res.read()
    out['identify_status'] = res.status
    if res.status == 200:
        out['identify'] = ctx.unwrap(unframe(data)).message.decode('utf-8')
    conn.close()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
