#!/usr/bin/env python3
"""sipsend.py -- send one SIP request and print the final answer.

usage: sipsend.py SRC_IP DST_IP DST_PORT udp|tcp|tls [TIMEOUT_S] < REQUEST

REQUEST is the message with LF line ends; @SRC@, @PORT@ (our port) and
@BRANCH@ are replaced, lines are sent with CRLF and Content-Length is
added when missing.  Prints the status line of the first final
response ("403 Community not enabled"), or "timeout".  Exit 0 when a
final response came.

tls: the client certificate and key come from $SIPSEND_CERT and
$SIPSEND_KEY, the CA that signed the server's from $SIPSEND_CA (the
server's name is not checked: the test wants to see the SIP answer).
With $SIPSEND_HEADERS set, the header lines of the final response are
printed after its status.
"""
import os
import random
import socket
import ssl
import sys


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


def main():
    src, dst, port, tp = sys.argv[1:5]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    raw = sys.stdin.read()
    kind = socket.SOCK_DGRAM if tp == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    s.bind((src, 0))
    s.settimeout(timeout)
    if tp != "udp":
        s.connect((dst, int(port)))
    if tp == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_verify_locations(os.environ["SIPSEND_CA"])
        ctx.load_cert_chain(os.environ["SIPSEND_CERT"],
                            os.environ["SIPSEND_KEY"])
        try:
            s = ctx.wrap_socket(s)
        except (ssl.SSLError, OSError) as e:
            print("tls-error %s" % e)
            return 1
    lport = s.getsockname()[1]
    branch = "z9hG4bK%08x" % random.getrandbits(32)
    text = (raw.replace("@SRC@", src).replace("@PORT@", str(lport))
            .replace("@BRANCH@", branch))
    head, _, body = text.partition("\n\n")
    lines = [l for l in head.split("\n") if l]
    if not any(l.lower().startswith("content-length") for l in lines):
        lines.append("Content-Length: %d" % len(body.encode()))
    msg = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
    if tp == "udp":
        s.sendto(msg, (dst, int(port)))
    else:
        s.sendall(msg)
    buf = b""
    try:
        while True:
            if tp == "udp":
                one = s.recv(65535)
            else:
                one, buf = frame(buf)
                if one is None:
                    chunk = s.recv(65535)
                    if not chunk:
                        break
                    buf += chunk
                    continue
            status = one.split(b"\r\n", 1)[0].decode("latin-1")
            parts = status.split(" ", 2)
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= 200:
                print(" ".join(parts[1:]))
                if os.environ.get("SIPSEND_HEADERS"):
                    head = one.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                    for line in head.split("\r\n")[1:]:
                        print(line)
                return 0
    except (socket.timeout, ssl.SSLError, ConnectionError):
        pass
    print("timeout")
    return 1


if __name__ == "__main__":
    sys.exit(main())
