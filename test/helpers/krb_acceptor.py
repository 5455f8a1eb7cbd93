"""MIT GSSAPI acceptor for the Kerberos client tests (Debian python3-gssapi), one JSON request per stdin line.

It holds contexts by id and answers accept / unwrap / wrap / wrap_winrm (acceptor), and istart / istep plus
wrap (an independent MIT initiator, for plain client-side wrap tokens). wrap_winrm builds the
WinRM layout the way pyspnego does (gss_wrap_iov with HEADER, DATA, PADDING and no TRAILER, so MIT moves the
trailer into the header and sets RRC), independently of the client's own layout code. The service keys come from
KRB5_KTNAME (the realm's keytab)."""
import base64
import json
import sys

import gssapi
from gssapi.raw import IOV, IOVBufferType, wrap_iov


def b64(b):
    return base64.b64encode(b).decode() if b else None


def unb64(s):
    return base64.b64decode(s) if s else b""


ctxs = {}
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    try:
        if op == "accept":
            ctx = ctxs.get(req["id"])
            if ctx is None:
                ctx = gssapi.SecurityContext(usage="accept")
                ctxs[req["id"]] = ctx
            out = ctx.step(unb64(req["token"]))
            resp = {"token": b64(out), "complete": ctx.complete}
            if ctx.complete:
                resp["initiator"] = str(ctx.initiator_name)
                resp["target"] = str(ctx.target_name)
                resp["delegated"] = ctx.delegated_creds is not None
                resp["mutual"] = bool(ctx.actual_flags & gssapi.RequirementFlag.mutual_authentication)
        elif op == "unwrap":
            res = ctxs[req["id"]].unwrap(unb64(req["token"]))
            resp = {"data": base64.b64encode(res.message).decode(), "encrypted": res.encrypted}
        elif op == "wrap":
            res = ctxs[req["id"]].wrap(unb64(req["data"]), True)
            resp = {"token": b64(res.message)}
        elif op == "wrap_winrm":
            iov = IOV(IOVBufferType.header, unb64(req["data"]), IOVBufferType.padding, std_layout=False)
            wrap_iov(ctxs[req["id"]], iov, confidential=True)
            resp = {"header": b64(iov[0].value), "data": b64((iov[1].value or b"") + (iov[2].value or b""))}
        elif op == "istart":
            flags = (gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.confidentiality
                     | gssapi.RequirementFlag.integrity | gssapi.RequirementFlag.out_of_sequence_detection)
            ctx = gssapi.SecurityContext(
                name=gssapi.Name(req["target"], gssapi.NameType.hostbased_service), usage="initiate",
                mech=gssapi.MechType.kerberos, flags=flags)
            ctxs[req["id"]] = ctx
            resp = {"token": b64(ctx.step())}
        elif op == "istep":
            ctx = ctxs[req["id"]]
            out = ctx.step(unb64(req["token"]))
            resp = {"token": b64(out), "complete": ctx.complete}
        elif op == "forget":
            ctxs.pop(req["id"], None)
            resp = {}
        else:
            resp = {"error": "unknown op " + op}
    except Exception as e:  # noqa: BLE001 - reported to the test
        resp = {"error": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(resp) + "\n")
    sys.stdout.flush()
