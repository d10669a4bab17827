#!/usr/bin/env python3
"""admit.py -- the peers of the admission test: many idle connections,
and single requests over UDP, TCP or TLS.

usage:
  admit.py hold STATE DST TCPPORT TLSPORT FIRST LAST
      One connection from each of 127.0.118.FIRST..LAST to DST (even
      addresses to TCPPORT, odd ones to TLSPORT, where they never start
      the handshake), each sending nothing.  A connection the server
      closes is opened again two seconds later, so the pressure
      stays.  STATE is rewritten every 0.2 s: "opened=N closed=N
      open=N".  Runs until SIGTERM.
  admit.py send SRC DST PORT udp|tcp|tls [options] < REQUEST
      REQUEST has LF line ends; @SRC@, @PORT@ (the port the Via names)
      and @BRANCH@ are replaced, Content-Length is added when missing,
      @BODY=N@ as the whole body stands for N bytes of 'x'.  Prints the
      first final response's status line, then for UDP where it
      arrived ("port=via" or "port=source") and the received= of its
      top Via.  Exit 0 when a final response came.
      --via-port P   (udp) the Via names port P, where a socket waits
                     for the response; the request leaves another port
      --ca F --cert F --key F   (tls) trust anchor, client certificate
      --timeout S    seconds to wait (10)
      --wait-close S (streams) after the answer, wait up to S seconds
                     for the server to end the connection: prints
                     "closed" or "open" after the status line
"""
import os
import random
import re
import select
import signal
import socket
import ssl
import sys
import time


def frame(data):
    """Split one message off a byte buffer (None if incomplete)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None, data
    head = data[:end].decode("latin-1")
    clen = 0
    for line in head.split("\r\n")[1:]:
        name, _, val = line.partition(":")
        if name.strip().lower() in ("content-length", "l"):
            clen = int(val.strip() or 0)
    total = end + 4 + clen
    if len(data) < total:
        return None, data
    return data[:total], data[total:]


def final(msg):
    """(status line, top Via) of a final response, else None."""
    text = msg.decode("latin-1")
    status = text.split("\r\n", 1)[0]
    parts = status.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) < 200:
        return None
    via = ""
    for line in text.split("\r\n")[1:]:
        if line.lower().startswith(("via:", "v:")):
            via = line
            break
    return " ".join(parts[1:]), via


def hold(argv):
    state, dst, tport, lport, first, last = argv
    srcs = ["127.0.118.%d" % i for i in range(int(first), int(last) + 1)]
    conns = {}      # src -> socket
    due = {s: 0.0 for s in srcs}   # src -> when to (re)open
    opened = closed = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    last_write = 0.0
    while not stop:
        now = time.monotonic()
        for src in srcs:
            if src in conns or due[src] > now:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            port = int(lport) if int(src.rsplit(".", 1)[1]) % 2 else int(tport)
            try:
                s.connect((dst, port))
            except OSError:
                s.close()
                due[src] = now + 0.5
                continue
            s.setblocking(False)
            conns[src] = s
            opened += 1
        if conns:
            r, _, _ = select.select(list(conns.values()), [], [], 0.05)
        else:
            r = []
            time.sleep(0.05)
        for s in r:
            try:
                gone = not s.recv(4096)
            except (ConnectionResetError, BlockingIOError):
                gone = True
            if gone:
                src = [k for k, v in conns.items() if v is s][0]
                s.close()
                del conns[src]
                due[src] = time.monotonic() + 2.0
                closed += 1
        if time.monotonic() - last_write >= 0.2:
            with open(state + ".tmp", "w") as f:
                f.write("opened=%d closed=%d open=%d\n"
                        % (opened, closed, len(conns)))
            os.replace(state + ".tmp", state)
            last_write = time.monotonic()
    for s in conns.values():
        s.close()
    return 0


def send(argv):
    src, dst, port, tp = argv[:4]
    opts = {"--via-port": None, "--ca": None, "--cert": None,
            "--key": None, "--timeout": "10", "--wait-close": "0"}
    rest = argv[4:]
    while rest:
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    timeout = float(opts["--timeout"])
    raw = sys.stdin.read()
    kind = socket.SOCK_DGRAM if tp == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    s.bind((src, 0))
    s.settimeout(timeout)
    back = None
    viaport = s.getsockname()[1]
    if tp == "udp" and opts["--via-port"]:
        viaport = int(opts["--via-port"])
        back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        back.bind((src, viaport))
    if tp != "udp":
        s.connect((dst, int(port)))
        if tp == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.load_verify_locations(opts["--ca"])
            if opts["--cert"]:
                ctx.load_cert_chain(opts["--cert"], opts["--key"])
            s = ctx.wrap_socket(s)
        viaport = s.getsockname()[1]
    branch = "z9hG4bK%08x" % random.getrandbits(32)
    text = (raw.replace("@SRC@", src).replace("@PORT@", str(viaport))
            .replace("@BRANCH@", branch))
    head, _, body = text.partition("\n\n")
    m = re.fullmatch(r"@BODY=(\d+)@\n?", body)
    if m:
        body = "x" * int(m.group(1))
    lines = [l for l in head.split("\n") if l]
    if not any(l.lower().startswith("content-length") for l in lines):
        lines.append("Content-Length: %d" % len(body.encode()))
    msg = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
    if tp == "udp":
        s.sendto(msg, (dst, int(port)))
    else:
        try:
            s.sendall(msg)
        except OSError:
            pass    # the server may answer and close before the end
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        if tp == "udp":
            socks = [s] + ([back] if back else [])
            r, _, _ = select.select(socks, [], [], 0.1)
            for one in r:
                got = final(one.recv(65535))
                if got:
                    where = "via" if one is back else "source"
                    rcv = re.search(r";received=([^;\s]+)", got[1])
                    print("%s port=%s received=%s" % (got[0], where,
                          rcv.group(1) if rcv else "-"))
                    return 0
            continue
        one, buf = frame(buf)
        if one is None:
            try:
                chunk = s.recv(65535)
            except socket.timeout:
                break
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            continue
        got = final(one)
        if got:
            state = "open"
            if not float(opts["--wait-close"]):
                print(got[0])
                return 0
            try:
                s.settimeout(float(opts["--wait-close"]))
                while True:
                    more = s.recv(65535)
                    if not more:
                        state = "closed"
                        break
            except socket.timeout:
                pass
            except (OSError, ssl.SSLError):
                state = "closed"
            print("%s %s" % (got[0], state))
            return 0
    print("timeout")
    return 1


def main():
    if len(sys.argv) >= 8 and sys.argv[1] == "hold":
        return hold(sys.argv[2:8])
    if len(sys.argv) >= 6 and sys.argv[1] == "send":
        return send(sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
