"""An independent Kerberos initiator for the mock: MIT's GSSAPI through python3-gssapi (Debian).

Usage: kerberos_gss_run.py URL MECH SCHEME RRC [CBT]
  MECH   spnego | krb5       (SPNEGO NegTokenInit with krb5 first, or a raw krb5 token)
  SCHEME Negotiate | Kerberos (the Authorization scheme)
  RRC    rotation applied to our Wrap tokens before the WinRM split (0 or 28)
  CBT    over HTTPS: 'cbt' binds the context to the server certificate (tls-server-end-point, RFC 5929);
         anything else or absent: no channel bindings
Credentials come from the ticket cache in KRB5CCNAME. Authenticates with an empty POST (as pywinrm's
setup_encryption does), feeds the server's final token back to MIT (mutual authentication: MIT checks the
AP-REP), then sends two Identify requests sealed with gss_wrap in the [MS-WSMV] 2.2.9.1 framing and unwraps the
sealed answers. Prints one JSON object.
"""
import base64
import hashlib
import http.client
import ssl
import json
import struct
import sys
import urllib.parse

import gssapi
import gssapi.raw

SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')
KRB5 = gssapi.OID.from_int_seq('1.2.840.113554.1.2.2')
SOAP = 'application/soap+xml;charset=UTF-8'
BOUNDARY = 'Encrypted Boundary'
IDENTIFY = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
    '<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>'
).encode()


def frame(header, data, length, protocol):
    head = (
        f'--{BOUNDARY}\r\n\tContent-Type: {protocol}\r\n'
        f'\tOriginalContent: type={SOAP};Length={length}\r\n'
        f'--{BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n'
    ).encode()
    return head + struct.pack('<I', len(header)) + header + data + f'--{BOUNDARY}--\r\n'.encode()


def unframe(body):
    marker = b'application/octet-stream\r\n'
    start = body.index(marker) + len(marker)
    end = body.rindex(f'--{BOUNDARY}--'.encode())
    payload = body[start:end]
    (hlen,) = struct.unpack('<I', payload[:4])
    return payload[4:4 + hlen], payload[4 + hlen:]


def rotate(token, rrc):
    """Re-rotate an RRC-0 RFC 4121 Wrap token by rrc (the RRC field is not in the encrypted header copy)."""
    if rrc == 0:
        return token
    head, body = bytearray(token[:16]), token[16:]
    struct.pack_into('>H', head, 6, rrc)
    return bytes(head) + body[-rrc:] + body[:-rrc]


def main():
    url, mech, scheme, rrc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cbt = len(sys.argv) > 5 and sys.argv[5] == 'cbt'
    protocol = (
        'application/HTTP-Kerberos-session-encrypted' if scheme == 'Kerberos'
        else 'application/HTTP-SPNEGO-session-encrypted'
    )
    parts = urllib.parse.urlsplit(url)
    bindings = None
    if parts.scheme == 'https':
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=30, context=ssl._create_unverified_context())
        conn.connect()
        if cbt:
            # The mock's certificate is signed with SHA-256, so the hash is SHA-256 either way (RFC 5929 4.1).
            digest = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).digest()
            bindings = gssapi.raw.ChannelBindings(application_data=b'tls-server-end-point:' + digest)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    flags = (
        gssapi.RequirementFlag.mutual_authentication
        | gssapi.RequirementFlag.integrity
        | gssapi.RequirementFlag.confidentiality
        | gssapi.RequirementFlag.replay_detection
        | gssapi.RequirementFlag.out_of_sequence_detection
    )
    ctx = gssapi.SecurityContext(
        name=gssapi.Name(f'HTTP@{parts.hostname}', gssapi.NameType.hostbased_service),
        mech=SPNEGO if mech == 'spnego' else KRB5,
        usage='initiate',
        flags=flags,
        channel_bindings=bindings,
    )
    out = {}
    token = ctx.step()
    out['sent'] = base64.b64encode(token).decode()
    conn.request('POST', parts.path, body=b'', headers={
        'Authorization': f'{scheme} {base64.b64encode(token).decode()}',
        'Content-Type': protocol,
    })
    resp = conn.getresponse()
    resp.read()
    out['auth_status'] = resp.status
    final = None
    for name, value in resp.getheaders():
        if name.lower() == 'www-authenticate' and value.startswith(scheme + ' '):
            final = base64.b64decode(value[len(scheme) + 1:])
    out['received'] = base64.b64encode(final).decode() if final else None
    if resp.status != 200 or final is None:
        print(json.dumps(out))
        return
    ctx.step(final)  # MIT verifies the AP-REP here (mutual authentication); raises if it is wrong
    out['complete'] = ctx.complete
    out['answers'] = []
    first_body = None
    for _ in range(2):
        wrapped = rotate(ctx.wrap(IDENTIFY, True).message, rrc)
        split = len(wrapped) - len(IDENTIFY)
        body = frame(wrapped[:split], wrapped[split:], len(IDENTIFY), protocol)
        first_body = first_body or body
        conn.request('POST', parts.path, body=body, headers={
            'Content-Type': f'multipart/encrypted;protocol="{protocol}";boundary="{BOUNDARY}"',
        })
        resp = conn.getresponse()
        data = resp.read()
        answer = {'status': resp.status, 'content_type': resp.getheader('Content-Type')}
        if resp.status == 200 and data.startswith(b'--'):
            header, sealed = unframe(data)
            answer['header_len'] = len(header)
            answer['rrc'] = struct.unpack('>H', header[6:8])[0]
            answer['flags'] = header[2]
            answer['plain'] = ctx.unwrap(header + sealed).message.decode()
        out['answers'].append(answer)
    # The first sealed message again: its sequence number is spent, so the acceptor must refuse it.
    conn.request('POST', parts.path, body=first_body, headers={
        'Content-Type': f'multipart/encrypted;protocol="{protocol}";boundary="{BOUNDARY}"',
    })
    resp = conn.getresponse()
    resp.read()
    out['replay_status'] = resp.status
    print(json.dumps(out))


if __name__ == '__main__':
    try:
        main()
    except gssapi.exceptions.GSSError as e:
        print(json.dumps({'error': str(e)}))
