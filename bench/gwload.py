#!/usr/bin/env python3
"""gwload.py -- drive many users and presence subscriptions into stgateway.

Speaks SIP over UDP from many local addresses, answers digest challenges
(MD5, qop=auth) for users u0..u(N-1) whose password is "pw<i>", answers
every NOTIFY with 200, and measures the gateway process (RSS, CPU from
/proc) around each phase.  One JSON object per phase on stdout.

Phases (in the order given on the command line):
  reg:FROM:TO          REGISTER users FROM..TO-1 (401, then with credentials)
  sub:FROM:TO          subscriptions FROM..TO-1 of the bulk pattern: watcher
                       u(j % N) watches u((j % N + 1 + j // N) % N)
  fan:K[:H]            K more subscriptions to uH (default u0), from
                       u(H+1)..u(H+K), then uH PUBLISHes "away": time from
                       the PUBLISH to the last NOTIFY saying so
  idle:SECONDS         nothing sent (NOTIFYs still answered): idle CPU
"""
import argparse
import hashlib
import json
import os
import random
import re
import selectors
import socket
import sys
import time

REALM = "acme.test"
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def md5hex(s):
    return hashlib.md5(s.encode()).hexdigest()


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    cpu = (int(parts[11]) + int(parts[12])) / CLK
    with open("/proc/%d/status" % pid) as f:
        rss = 0
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return cpu, rss


NONCE_RE = re.compile(r'nonce="([^"]+)"[^\r\n]*algorithm=MD5', re.I)


class Tx:
    __slots__ = ("kind", "callid", "user", "step", "msg", "sent", "target",
                 "sock", "tries", "fan")


class Load:
    def __init__(self, a):
        self.a = a
        self.gw = (a.gw, a.port)
        self.sel = selectors.DefaultSelector()
        self.socks = []
        for i in range(a.sources):
            ip = "%s.%d" % (a.src_prefix, a.src_first + i)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for opt, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):
                try:    # SO_RCVBUFFORCE/SO_SNDBUFFORCE as root
                    s.setsockopt(socket.SOL_SOCKET, force, 8 << 20)
                except OSError:
                    s.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
            s.bind((ip, 0))
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.socks.append((s, "%s:%d" % s.getsockname()))
        self.txs = {}
        self.ha1 = {}
        self.seq = random.randrange(1 << 30)
        self.notify_in = 0
        self.fan_target = None
        self.fan_seen = 0
        self.fan_calls = set()
        self.fan_last = 0.0
        self.errors = {}
        self.stale = 0

    def user_ha1(self, u):
        h = self.ha1.get(u)
        if h is None:
            h = md5hex("u%d:%s:pw%d" % (u, REALM, u))
            if len(self.ha1) < 200000:
                self.ha1[u] = h
        return h

    # ---- building ----
    def build(self, tx, cseq, auth):
        s, hp = tx.sock
        u = tx.user
        self.seq += 1
        branch = "z9hG4bK%x" % self.seq
        if tx.kind == "REGISTER":
            ruri = "sip:%s" % REALM
            to = "<sip:u%d@%s>" % (u, REALM)
            extra = "Contact: <sip:u%d@%s>\r\nExpires: 3600\r\n" % (u, hp)
            body = ""
        elif tx.kind == "SUBSCRIBE":
            ruri = "sip:u%d@%s" % (tx.target, REALM)
            to = "<%s>" % ruri
            extra = ("Contact: <sip:u%d@%s>\r\nEvent: presence\r\n"
                     "Accept: application/pidf+xml\r\nExpires: 3600\r\n"
                     % (u, hp))
            body = ""
        else:  # PUBLISH
            ruri = "sip:u%d@%s" % (u, REALM)
            to = "<%s>" % ruri
            extra = ("Event: presence\r\nExpires: 3600\r\n"
                     "Content-Type: application/pidf+xml\r\n")
            body = ('<?xml version="1.0" encoding="UTF-8"?>'
                    '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
                    'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
                    'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" '
                    'entity="%s"><dm:person id="p1"><rpid:activities>'
                    '<rpid:away/></rpid:activities></dm:person>'
                    '<tuple id="t1"><status><basic>open</basic></status>'
                    '</tuple></presence>' % ruri)
        if auth:
            nonce = auth
            cnonce = "%x" % self.seq
            ha2 = md5hex("%s:%s" % (tx.kind, ruri))
            resp = md5hex("%s:%s:00000001:%s:auth:%s" %
                          (self.user_ha1(u), nonce, cnonce, ha2))
            hname = ("Authorization" if tx.kind == "REGISTER"
                     else "Proxy-Authorization")
            extra += ('%s: Digest username="u%d", realm="%s", '
                      'nonce="%s", uri="%s", response="%s", '
                      'algorithm=MD5, qop=auth, nc=00000001, '
                      'cnonce="%s"\r\n' % (hname, u, REALM, nonce, ruri,
                                           resp, cnonce))
        return ("%s %s SIP/2.0\r\n"
                "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <sip:u%d@%s>;tag=f%x\r\n"
                "To: %s\r\n"
                "Call-ID: %s\r\n"
                "CSeq: %d %s\r\n"
                "User-Agent: gwload\r\n"
                "%s"
                "Content-Length: %d\r\n\r\n%s"
                % (tx.kind, ruri, hp, branch, u, REALM, tx.sock and
                   hash(tx.callid) & 0xffffffff, to, tx.callid, cseq,
                   tx.kind, extra, len(body), body)).encode()

    def send(self, tx, cseq, auth=None):
        tx.msg = self.build(tx, cseq, auth)
        tx.sent = time.monotonic()
        tx.tries = 0
        self.xmit(tx)

    def xmit(self, tx):
        try:
            tx.sock[0].sendto(tx.msg, self.gw)
        except BlockingIOError:
            pass

    def start(self, kind, user, target=None):
        tx = Tx()
        tx.kind = kind
        tx.user = user
        tx.target = target
        tx.sock = self.socks[user % len(self.socks)]
        self.seq += 1
        tx.callid = "c%x-%x" % (self.seq, os.getpid())
        tx.step = 1
        tx.fan = False
        self.txs[tx.callid] = tx
        self.send(tx, 1)
        return tx

    # ---- receiving ----
    def on_packet(self, s, data, addr):
        try:
            text = data.decode("utf-8", "replace")
        except Exception:
            return
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        first = lines[0]
        if first.startswith("NOTIFY "):
            self.on_notify(s, addr, lines, body)
            return
        if not first.startswith("SIP/2.0 "):
            return
        code = int(first[8:11])
        callid = None
        for ln in lines:
            if ln[:8].lower() == "call-id:":
                callid = ln[8:].strip()
                break
        tx = self.txs.get(callid)
        if tx is None or code < 200:
            return
        if code in (401, 407) and (tx.step == 1 or (
                tx.step < 5 and "stale=true" in head)):
            m = NONCE_RE.search(head)
            if not m:
                self.err("no MD5 challenge")
                del self.txs[callid]
                return
            if tx.step > 1:
                self.stale += 1    # a fresh nonce, as a client would
            tx.step += 1
            self.send(tx, tx.step, m.group(1))
            return
        del self.txs[callid]
        if code >= 300:
            self.err("%s %d" % (tx.kind, code))
            return
        self.done += 1
        if tx.fan:
            self.fan_sent = tx.sent

    def on_notify(self, s, addr, lines, body):
        keep = []
        for ln in lines[1:]:
            k = ln.split(":", 1)[0].strip().lower()
            if k in ("via", "from", "to", "call-id", "cseq", "v", "f", "t",
                     "i"):
                keep.append(ln)
        resp = ("SIP/2.0 200 OK\r\n%s\r\nContent-Length: 0\r\n\r\n"
                % "\r\n".join(keep)).encode()
        try:
            s.sendto(resp, addr)
        except BlockingIOError:
            pass
        self.notify_in += 1
        if self.fan_target and self.fan_target in body and "away" in body:
            cid = [ln for ln in keep if ln[:8].lower() == "call-id:"]
            if cid and cid[0] in self.fan_calls:
                return     # a retransmission
            self.fan_calls.add(cid[0] if cid else len(self.fan_calls))
            self.fan_seen += 1
            self.fan_last = time.monotonic()

    def err(self, what):
        self.errors[what] = self.errors.get(what, 0) + 1

    def pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            s = key.fileobj
            for _ in range(64):
                try:
                    data, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                self.on_packet(s, data, addr)

    def retransmit(self):
        now = time.monotonic()
        dead = []
        for tx in self.txs.values():
            if now - tx.sent > 0.5 * (2 ** tx.tries):
                if tx.tries >= 6:
                    dead.append(tx.callid)
                    continue
                tx.tries += 1
                self.xmit(tx)
        for c in dead:
            self.err("timeout %s" % self.txs[c].kind)
            del self.txs[c]

    def run_jobs(self, jobs):
        """jobs: iterator of (kind, user, target)."""
        self.done = 0
        window = self.a.window
        it = iter(jobs)
        more = True
        last_rt = time.monotonic()
        while more or self.txs:
            while more and len(self.txs) < window:
                j = next(it, None)
                if j is None:
                    more = False
                    break
                self.start(*j)
            self.pump(0.05)
            now = time.monotonic()
            if now - last_rt > 0.25:
                self.retransmit()
                last_rt = now

    def settle(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gw", default="127.0.22.1")
    ap.add_argument("--port", type=int, default=5060)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--src-prefix", default="127.0.22")
    ap.add_argument("--src-first", type=int, default=10)
    ap.add_argument("--sources", type=int, default=64)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--label", default="")
    ap.add_argument("phases", nargs="+")
    a = ap.parse_args()
    ld = Load(a)
    N = a.users
    for ph in a.phases:
        parts = ph.split(":")
        cpu0, rss0 = proc_stat(a.pid)
        t0 = time.monotonic()
        out = {"label": a.label, "phase": ph}
        if parts[0] == "reg":
            lo, hi = int(parts[1]), int(parts[2])
            ld.run_jobs(("REGISTER", u, None) for u in range(lo, hi))
            out["n"] = hi - lo
        elif parts[0] == "sub":
            lo, hi = int(parts[1]), int(parts[2])
            ld.run_jobs(("SUBSCRIBE", j % N, (j % N + 1 + j // N) % N)
                        for j in range(lo, hi))
            out["n"] = hi - lo
        elif parts[0] == "fan":
            k = int(parts[1])
            hot = int(parts[2]) if len(parts) > 2 else 0
            ld.run_jobs(("SUBSCRIBE", (hot + w) % N, hot)
                        for w in range(1, k + 1))
            ld.settle(1.0)
            out["n"] = k
            out["ok"] = ld.done
            t1 = time.monotonic()
            cpu1, rss1 = proc_stat(a.pid)
            out["sub_seconds"] = round(t1 - t0, 3)
            out["sub_cpu"] = round(cpu1 - cpu0, 3)
            out["sub_rss_delta"] = rss1 - rss0
            ld.fan_target = 'entity="sip:u%d@%s"' % (hot, REALM)
            ld.fan_seen = 0
            ld.fan_calls = set()
            ld.fan_sent = None
            cpu0, rss0 = proc_stat(a.pid)
            t0 = time.monotonic()
            tx = ld.start("PUBLISH", hot)
            tx.fan = True
            ld.done = 0
            end = time.monotonic() + 120
            while (ld.fan_seen < k or ld.txs) and time.monotonic() < end:
                ld.pump(0.05)
                ld.retransmit()
            ld.settle(1.0)   # the hot user's other (bulk) watchers
            out["published_ok"] = ld.done
            out["notified"] = ld.fan_seen
            if ld.fan_sent is not None and ld.fan_seen:
                out["fanout_ms"] = round((ld.fan_last - tx.sent) * 1000, 1)
            ld.fan_target = None
        elif parts[0] == "idle":
            ld.settle(float(parts[1]))
        else:
            sys.exit("unknown phase " + ph)
        if parts[0] != "fan":
            out["ok"] = ld.done if parts[0] != "idle" else 0
        t1 = time.monotonic()
        cpu1, rss1 = proc_stat(a.pid)
        out.update(seconds=round(t1 - t0, 3), cpu=round(cpu1 - cpu0, 3),
                   rss_before=rss0, rss_after=rss1,
                   notify_in=ld.notify_in, stale_retries=ld.stale,
                   errors=dict(ld.errors))
        ld.errors.clear()
        ld.stale = 0
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
