#!/usr/bin/python3
"""rogue.py -- a server that claims an XMPP domain it is not.

Opens a server-to-server stream from SRC to ADDR:5269 claiming FROM (to
TO), takes STARTTLS with CERT/KEY (a certificate that may well be valid
for FROM: the address is what gives it away), asks for dialback and
prints what the receiving server answered, one line each:

  features starttls=yes|no
  tls ok | tls refused WHY
  result type=valid|invalid|none
  stream-error CONDITION
  closed

Usage: rogue.py SRC ADDR PORT FROM TO CERT KEY CAFILE
"""
import re
import socket
import ssl
import sys

HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       "xmlns:stream='http://etherx.jabber.org/streams' "
       "xmlns:db='jabber:server:dialback' version='1.0' "
       "from='%s' to='%s'>")


def read_until(sock, pattern, limit=5.0):
    """Reads until PATTERN matches what came in, or the peer closes."""
    sock.settimeout(limit)
    data = b''
    while not re.search(pattern, data):
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, ssl.SSLError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data.decode('utf-8', 'replace')


def say(line):
    print(line, flush=True)


def main():
    src, addr, port, dom_from, dom_to, cert, key, ca = sys.argv[1:9]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((src, 0))
    sock.connect((addr, int(port)))
    sock.sendall((HDR % (dom_from, dom_to)).encode())
    got = read_until(sock, rb'</stream:features>')
    say('features starttls=%s' % ('yes' if 'starttls' in got else 'no'))
    sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    got = read_until(sock, rb'<proceed')
    if '<proceed' not in got:
        say('closed')
        return
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    ctx.load_cert_chain(cert, key)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=dom_to)
        # TLS 1.3: a refused client certificate shows at the first read
        tls.sendall((HDR % (dom_from, dom_to)).encode())
        got = read_until(tls, rb'</stream:features>')
    except (ssl.SSLError, OSError) as e:
        say('tls refused %s' % type(e).__name__)
        say('closed')
        return
    if not got:
        say('tls refused closed')
        say('closed')
        return
    say('tls ok')
    tls.sendall(("<db:result from='%s' to='%s'>0123456789abcdef"
                 "</db:result>" % (dom_from, dom_to)).encode())
    got = read_until(tls, rb'</stream:stream>|</stream:error>')
    m = re.search(r"<db:result[^>]*type=['\"](\w+)", got)
    say('result type=%s' % (m.group(1) if m else 'none'))
    m = re.search(r"<stream:error><([a-z-]+)", got)
    if m:
        say('stream-error %s' % m.group(1))
    say('closed')


if __name__ == '__main__':
    main()
