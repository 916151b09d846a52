#!/usr/bin/env python3
"""adv_mitm.py -- a man in the middle for adversarial integration tests.

It stands for root on an attested host who controls every byte the agent
sends (or, in front of the verifier, every byte an agent's enrollment
carries). It terminates TLS with a certificate the peer accepts (the
agent's own certificate towards the verifier; the test PKI's verifier
certificate towards an agent, a harness shortcut standing in for root
modifying the agent), forwards each request to the real upstream with a
client certificate the upstream accepts, and rewrites requests and
responses according to a mode file the test changes at run time.

Only the Python standard library is used.

  adv_mitm.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT \
      --cert SERVER.pem --key SERVER.key --ca CA.pem \
      --client-cert CLIENT.pem --client-key CLIENT.key \
      --mode-file FILE --dir STATEDIR

The mode file holds one line, MODE [ARGS...]; it is read for every request
(a missing or empty file means pass):

  pass                      forward untouched
  replay FILE               answer with FILE (a captured response) instead
  other HOST:PORT           forward the request to another agent instead
  pcrs-drop N               remove PCR N from the requested selection
  pcr-tamper BANK N         change the reported value of PCR N in BANK
  pcr-add BANK N HEX        add a reported value for PCR N in BANK (outside
                            the quoted selection)
  pcr-drop-add N HEX        remove PCR N from the requested selection and
                            report HEX for it in the first requested bank
  ima-strip                 remove the IMA list from the evidence
  ima-drop-last             remove the last IMA entry (count adjusted)
  ima-cut BYTES             cut BYTES off the end of the IMA list
  ima-empty                 send an empty IMA fragment (count 0)
  ima-bytes-drop            remove ima_bytes from the request (the agent
                            sends a page as large as it likes)
  hold-activate             hold POST .../activate until STATEDIR/go exists
                            (STATEDIR/held marks the wait; 30 s at most)
  status CODE               answer every request with HTTP CODE

Every response that came from the upstream (an evidence document in any
form, JSON or binary 2 or 3: doc_decode/doc_encode) is saved as STATEDIR/last.json
(and STATEDIR/resp-N.json); STATEDIR/log gets one line per request:
"N MODE METHOD PATH -> STATUS". STATEDIR/ready appears once listening.
"""

import argparse
import base64
import http.client
import json
import os
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

LOCK = threading.Lock()
COUNTER = [0]
HASH_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64, "sm3_256": 32}


def atomic_write(path, data):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def read_mode(path):
    try:
        with open(path) as f:
            line = f.readline().strip()
    except OSError:
        return ["pass"]
    return line.split() if line else ["pass"]


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


# ---- PCR selections "sha256:0,1,2+sha1:0,1" --------------------------------

def sel_parse(s):
    out = []
    for part in s.split("+"):
        bank, _, idx = part.partition(":")
        out.append((bank, [int(i) for i in idx.split(",") if i != ""]))
    return out


def sel_format(sel):
    return "+".join("%s:%s" % (b, ",".join(str(i) for i in idx)) for b, idx in sel)


# ---- the evidence document, JSON or binary (common/proto/doc.h) ------------

DOC_BIN_MAGIC = b"ASSAYEV2"
DOC_BIN3_MAGIC = b"ASSAYEV3"
HASH_ALGS = {"sha1": 0x0004, "sha256": 0x000b, "sha384": 0x000c,
             "sha512": 0x000d, "sm3_256": 0x0012}
HASH_NAMES = {v: k for k, v in HASH_ALGS.items()}
# form 3's section tags
S_QMSG, S_QSIG, S_PCRS, S_IMETA, S_ILIST, S_LOG, S_IDPUB, S_IDMSG, S_IDSIG = range(1, 10)


def b64(b):
    return base64.b64encode(b).decode()


def doc3_decode(body):
    """Form 3's sections as the JSON document (base64 and hex inside)."""
    sec, off = {}, len(DOC_BIN3_MAGIC)
    while off < len(body):
        tag, n = struct.unpack_from(">HI", body, off)
        sec[tag] = body[off + 6:off + 6 + n]
        off += 6 + n
    doc = {"version": 1, "quote": {"message": b64(sec[S_QMSG]),
                                   "signature": b64(sec[S_QSIG])}, "pcrs": {}}
    p = sec[S_PCRS]
    while p:
        alg, mask = struct.unpack_from(">HI", p)
        name, p = HASH_NAMES[alg], p[6:]
        size, bank = HASH_SIZES[name], {}
        for i in range(24):
            if mask & (1 << i):
                bank[str(i)], p = p[:size].hex(), p[size:]
        doc["pcrs"][name] = bank
    if S_IMETA in sec:
        frm, count, alg, more = struct.unpack(">QQHB", sec[S_IMETA])
        doc["ima"] = {"from": frm, "count": count,
                      "template_hash": HASH_NAMES[alg],
                      "list": b64(sec.get(S_ILIST, b""))}
        if more:
            doc["ima"]["more"] = True
    if S_LOG in sec:
        doc["eventlog"] = b64(sec[S_LOG])
    if S_IDPUB in sec:
        doc["identity"] = {"public": b64(sec[S_IDPUB]),
                           "message": b64(sec[S_IDMSG]),
                           "signature": b64(sec[S_IDSIG])}
    return doc


def doc3_encode(doc):
    """The JSON document in form 3 (empty list and log left out)."""
    def sec(tag, b):
        return struct.pack(">HI", tag, len(b)) + b
    q = doc["quote"]
    out = DOC_BIN3_MAGIC + sec(S_QMSG, base64.b64decode(q["message"])) + \
        sec(S_QSIG, base64.b64decode(q["signature"]))
    pcrs = b""
    for name, bank in doc.get("pcrs", {}).items():
        idx = sorted(int(i) for i in bank)
        if idx:
            pcrs += struct.pack(">HI", HASH_ALGS[name], sum(1 << i for i in idx))
            pcrs += b"".join(bytes.fromhex(bank[str(i)]) for i in idx)
    out += sec(S_PCRS, pcrs)
    if "ima" in doc:
        ima = doc["ima"]
        out += sec(S_IMETA, struct.pack(">QQHB", ima["from"], ima["count"],
                                        HASH_ALGS[ima.get("template_hash", "sha1")],
                                        1 if ima.get("more") else 0))
        lst = base64.b64decode(ima.get("list", ""))
        if lst:
            out += sec(S_ILIST, lst)
    log = base64.b64decode(doc.get("eventlog", ""))
    if log:
        out += sec(S_LOG, log)
    if "identity" in doc:
        i = doc["identity"]
        out += sec(S_IDPUB, base64.b64decode(i["public"])) + \
            sec(S_IDMSG, base64.b64decode(i["message"])) + \
            sec(S_IDSIG, base64.b64decode(i["signature"]))
    return out


def doc_decode(body):
    """The document as JSON with base64 list and log, and its form (1, 2, 3)."""
    if body[:len(DOC_BIN3_MAGIC)] == DOC_BIN3_MAGIC:
        return doc3_decode(body), 3
    if body[:len(DOC_BIN_MAGIC)] != DOC_BIN_MAGIC:
        return json.loads(body), 1
    off, parts = len(DOC_BIN_MAGIC), []
    for _ in range(3):
        (n,) = struct.unpack(">I", body[off:off + 4])
        parts.append(body[off + 4:off + 4 + n])
        off += 4 + n
    doc = json.loads(parts[0])
    if "ima" in doc:
        doc["ima"]["list"] = base64.b64encode(parts[1]).decode()
    if parts[2]:
        doc["eventlog"] = base64.b64encode(parts[2]).decode()
    return doc, 2


def doc_encode(doc, form):
    """doc back in the form it came in."""
    if form == 1:
        return json.dumps(doc).encode()
    if form == 3:
        return doc3_encode(doc)
    d, ima, log = dict(doc), b"", b""
    if "ima" in d:
        d["ima"] = dict(d["ima"])
        ima = base64.b64decode(d["ima"].pop("list", ""))
    if "eventlog" in d:
        log = base64.b64decode(d.pop("eventlog"))
    js = json.dumps(d).encode()
    return (DOC_BIN_MAGIC + struct.pack(">I", len(js)) + js +
            struct.pack(">I", len(ima)) + ima + struct.pack(">I", len(log)) + log)


# ---- IMA binary list framing -----------------------------------------------

def ima_entries(data, hlen):
    """Offsets of the complete entries of a binary list."""
    offs, p = [], 0
    while p < len(data):
        start = p
        if p + 4 + hlen + 4 > len(data):
            break
        p += 4 + hlen
        (nlen,) = struct.unpack_from("<I", data, p)
        p += 4
        name = data[p:p + nlen]
        p += nlen
        if name == b"ima":
            p += 20
            (dlen,) = struct.unpack_from("<I", data, p)
            p += 4 + dlen
        else:
            (dlen,) = struct.unpack_from("<I", data, p)
            p += 4 + dlen
        if p > len(data):
            break
        offs.append((start, p))
    return offs


class Mitm:
    def __init__(self, a):
        self.a = a
        self.upstream = hostport(a.upstream)
        s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        s.load_cert_chain(a.cert, a.key)
        s.load_verify_locations(a.ca)
        s.verify_mode = ssl.CERT_REQUIRED
        self.sctx = s
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_REQUIRED
        c.load_verify_locations(a.ca)
        c.load_cert_chain(a.client_cert, a.client_key)
        self.cctx = c

    def log(self, line):
        with LOCK:
            with open(os.path.join(self.a.dir, "log"), "a") as f:
                f.write(line + "\n")

    def forward(self, target, method, path, headers, body):
        host, port = target
        conn = http.client.HTTPSConnection(host, port, context=self.cctx, timeout=20)
        try:
            hdrs = {k: v for k, v in headers.items()
                    if k.lower() in ("content-type", "accept")}
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return r.status, r.getheader("Content-Type", "application/json"), data
        finally:
            conn.close()

    # -- request rewriting
    def rewrite_request(self, mode, path):
        u = urllib.parse.urlsplit(path)
        q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        qd = dict(q)
        if mode[0] in ("pcrs-drop", "pcr-drop-add") and "pcrs" in qd:
            n = int(mode[1])
            sel = [(b, [i for i in idx if i != n]) for b, idx in sel_parse(qd["pcrs"])]
            qd["pcrs"] = sel_format(sel)
        elif mode[0] == "ima-bytes-drop" and "ima_bytes" in qd:
            q = [(k, v) for k, v in q if k != "ima_bytes"]
        else:
            return path
        query = "&".join("%s=%s" % (k, urllib.parse.quote(qd[k], safe=""))
                         for k, _ in q)
        return urllib.parse.urlunsplit(("", "", u.path, query, ""))

    # -- response rewriting
    def rewrite_response(self, mode, path, body):
        m = mode[0]
        if m not in ("pcr-tamper", "pcr-add", "pcr-drop-add", "ima-strip",
                     "ima-drop-last", "ima-cut", "ima-empty"):
            return body
        doc, form = doc_decode(body)
        if m == "pcr-tamper":
            bank, n = mode[1], mode[2]
            v = doc["pcrs"][bank][n]
            doc["pcrs"][bank][n] = v[:-1] + ("0" if v[-1] != "0" else "1")
        elif m == "pcr-add":
            bank, n, hx = mode[1], mode[2], mode[3]
            doc["pcrs"].setdefault(bank, {})[n] = hx
        elif m == "pcr-drop-add":
            qd = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
            bank = sel_parse(qd["pcrs"])[0][0]
            doc["pcrs"].setdefault(bank, {})[mode[1]] = mode[2]
        elif m == "ima-strip":
            doc.pop("ima", None)
        elif m in ("ima-drop-last", "ima-cut", "ima-empty") and "ima" in doc:
            ima = doc["ima"]
            data = base64.b64decode(ima["list"])
            if m == "ima-empty":
                data, ima["count"] = b"", 0
            elif m == "ima-cut":
                data = data[:max(0, len(data) - int(mode[1]))]
            else:
                offs = ima_entries(data, HASH_SIZES.get(ima.get("template_hash", "sha1"), 20))
                if offs:
                    data = data[:offs[-1][0]]
                    ima["count"] = len(offs) - 1
            ima["list"] = base64.b64encode(data).decode()
        return doc_encode(doc, form)

    def handle(self, h, method):
        mode = read_mode(self.a.mode_file)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length > 0 else None
        with LOCK:
            COUNTER[0] += 1
            n = COUNTER[0]
        path = h.path
        status, ctype, data = 502, "application/json", b'{"error":"mitm"}'
        try:
            if mode[0] == "status":
                status = int(mode[1])
                data = b'{"error":"the man in the middle says no"}'
            elif mode[0] == "replay":
                with open(mode[1], "rb") as f:
                    data = f.read()
                status = 200
            else:
                target = self.upstream
                if mode[0] == "other":
                    target = hostport(mode[1])
                if mode[0] == "hold-activate" and method == "POST" and \
                        path.endswith("/activate"):
                    atomic_write(os.path.join(self.a.dir, "held"), path.encode())
                    go = os.path.join(self.a.dir, "go")
                    t0 = time.time()
                    while not os.path.exists(go) and time.time() - t0 < 30:
                        time.sleep(0.05)
                fpath = self.rewrite_request(mode, path)
                status, ctype, data = self.forward(target, method, fpath, h.headers, body)
                if status == 200:
                    atomic_write(os.path.join(self.a.dir, "resp-%d.json" % n), data)
                    atomic_write(os.path.join(self.a.dir, "last.json"), data)
                    data = self.rewrite_response(mode, fpath, data)
        except Exception as e:  # noqa: BLE001 -- report, never die
            status, data = 502, json.dumps({"error": "mitm: %s" % e}).encode()
        self.log("%d %s %s %s -> %d" % (n, " ".join(mode), method, path, status))
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()
        h.close_connection = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mitm = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.mitm.handle(self, "GET")

    def do_POST(self):
        self.mitm.handle(self, "POST")

    def do_PUT(self):
        self.mitm.handle(self, "PUT")

    def do_DELETE(self):
        self.mitm.handle(self, "DELETE")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sctx = None

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(30)
        # the handshake happens in the handler thread, on the first read
        return self.sctx.wrap_socket(sock, server_side=True,
                                     do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass


def main():
    p = argparse.ArgumentParser()
    for o in ("listen", "upstream", "cert", "key", "ca", "client-cert", "client-key",
              "mode-file", "dir"):
        p.add_argument("--" + o, required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    m = Mitm(a)
    Handler.mitm = m
    Server.sctx = m.sctx
    srv = Server(hostport(a.listen), Handler)
    atomic_write(os.path.join(a.dir, "ready"), b"%d\n" % os.getpid())
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
