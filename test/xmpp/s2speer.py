#!/usr/bin/python3
"""s2speer.py -- a minimal XMPP server-to-server peer for tests (stdlib).

It speaks just the stanzas a test of SASL EXTERNAL and its fallbacks
needs, over real TCP and TLS, and prints what it saw, one line each,
flushed at once.

  s2speer.py serve DOMAIN ADDR PORT CERT KEY CA VERIFY_ADDR VERIFY_PORT
      Serve DOMAIN on ADDR:PORT.  Each stream: STARTTLS, then features
      offering SASL EXTERNAL and dialback.  An <auth/> is refused
      (<failure><not-authorized/>); a db:result is checked by asking
      the originating domain's server at VERIFY_ADDR:VERIFY_PORT with
      db:verify (XEP-0220 2.3), and answered as it says.  Prints
      "conn N", "auth N authzid=X", "db-result N from=D",
      "verify N type=T", "message N from=J body=B", "closed N".

  s2speer.py connect DOMAIN TO SRC ADDR PORT CERT KEY CA STEP...
      Open a stream from SRC to ADDR:PORT as DOMAIN towards TO, do
      STARTTLS, print the features ("features N mechanisms=M
      dialback=yes|no"), then each STEP in turn:
        auth:MECH:AUTHZID   <auth/> (AUTHZID "=" for empty); prints
                            "auth success" or "auth failure COND"; on
                            success the stream restarts (features again)
        db:FROM             a db:result claiming FROM (any key: the
                            receiving server checks the certificate
                            and the address); prints "db-result FROM
                            type=T"
        message:JID:TEXT    a chat message from bob@DOMAIN
        space:SECONDS       a whitespace keep-alive every 2 s for
                            SECONDS, printing what arrives meanwhile
        wait:SECONDS        read and print what arrives meanwhile
      Stream errors print "stream-error COND"; the end "closed".
"""
import base64
import socket
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

NS_STREAM = 'http://etherx.jabber.org/streams'
NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls'
NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
NS_DB = 'jabber:server:dialback'
NS_SERVER = 'jabber:server'
LOCK = threading.Lock()


def say(line):
    with LOCK:
        print(line, flush=True)


def header(frm, to, sid=None):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            "xmlns:stream='%s' xmlns:db='%s' from='%s' to='%s'%s "
            "version='1.0'>" % (NS_STREAM, NS_DB, frm, to,
                                " id='%s'" % sid if sid else ''))


class Stream:
    """Top-level elements of an XMPP stream, read from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.restart()

    def restart(self):
        self.parser = ET.XMLPullParser(events=('start', 'end'))
        self.depth = 0
        self.pending = []
        self.attrs = None

    def send(self, text):
        self.sock.sendall(text.encode())

    def next(self, timeout=10):
        """('header', attrs) | ('el', element) | ('end', None)"""
        self.sock.settimeout(timeout)
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                return ('end', None)
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == 'start':
                    self.depth += 1
                    if self.depth == 1:
                        self.pending.append(('header', dict(el.attrib)))
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.pending.append(('el', el))
                    elif self.depth == 0:
                        self.pending.append(('end', None))
        return self.pending.pop(0)

    def element(self, timeout=10):
        """The next top-level element; EOFError at the stream's end."""
        while True:
            kind, el = self.next(timeout)
            if kind == 'end':
                raise EOFError
            if kind == 'el':
                return el


def tag(el):
    return el.tag


def starttls_server(st, ctx):
    st.sock = ctx.wrap_socket(st.sock, server_side=True)
    st.restart()


def verify(domain, frm, sid, key, addr, port, cert, keyf, ca):
    """Ask frm's server whether key is its for stream sid."""
    s = socket.create_connection((addr, port), timeout=10)
    st = Stream(s)
    st.send(header(domain, frm))
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, keyf)
    while True:
        kind, el = st.next()
        if kind == 'el' and tag(el) == '{%s}features' % NS_STREAM:
            break
    st.send("<starttls xmlns='%s'/>" % NS_TLS)
    kind, el = st.next()
    st.sock = ctx.wrap_socket(st.sock, server_hostname=frm)
    st.restart()
    st.send(header(domain, frm))
    while True:
        kind, el = st.next()
        if kind == 'end':
            return 'none'
        if kind == 'el' and tag(el) == '{%s}features' % NS_STREAM:
            st.send("<db:verify from='%s' to='%s' id='%s'>%s</db:verify>"
                    % (domain, frm, sid, key))
        elif kind == 'el' and tag(el) == '{%s}verify' % NS_DB:
            st.send('</stream:stream>')
            try:
                while st.next(2)[0] != 'end':
                    pass
            except OSError:
                pass
            st.sock.close()
            return el.get('type', 'none')


def serve_one(n, sock, a):
    domain, cert, keyf, ca, vaddr, vport = a
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, keyf)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    st = Stream(sock)
    sid = 'peer-%d' % n
    try:
        while True:
            kind, el = st.next(30)
            if kind == 'end':
                break
            if kind == 'header':
                st.send(header(domain, el.get('from', ''), sid))
                if isinstance(st.sock, ssl.SSLSocket):
                    st.send("<stream:features><mechanisms xmlns='%s'>"
                            "<mechanism>EXTERNAL</mechanism></mechanisms>"
                            "<dialback xmlns='urn:xmpp:features:dialback'>"
                            "<errors/></dialback></stream:features>"
                            % NS_SASL)
                else:
                    st.send("<stream:features><starttls xmlns='%s'>"
                            "<required/></starttls></stream:features>"
                            % NS_TLS)
                continue
            t = tag(el)
            if t == '{%s}starttls' % NS_TLS:
                st.send("<proceed xmlns='%s'/>" % NS_TLS)
                starttls_server(st, ctx)
            elif t == '{%s}auth' % NS_SASL:
                z = (el.text or '').strip()
                z = '' if z == '=' else base64.b64decode(z).decode()
                say('auth %d mechanism=%s authzid=%s' %
                    (n, el.get('mechanism'), z or '='))
                st.send("<failure xmlns='%s'><not-authorized/></failure>"
                        % NS_SASL)
            elif t == '{%s}result' % NS_DB:
                frm = el.get('from')
                say('db-result %d from=%s' % (n, frm))
                typ = verify(domain, frm, sid, el.text or '', vaddr,
                             vport, cert, keyf, ca)
                say('verify %d type=%s' % (n, typ))
                st.send("<db:result from='%s' to='%s' type='%s'/>" %
                        (domain, frm, typ))
            elif t == '{%s}message' % NS_SERVER:
                body = el.find('{%s}body' % NS_SERVER)
                say('message %d from=%s body=%s' %
                    (n, el.get('from'), body.text if body is not None
                     else ''))
            else:
                say('element %d %s' % (n, t))
    except (OSError, ET.ParseError) as e:
        say('error %d %s' % (n, e))
    say('closed %d' % n)
    sock.close()


def serve(argv):
    domain, addr, port, cert, keyf, ca, vaddr, vport = argv
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(8)
    say('listening')
    n = 0
    while True:
        sock, peer = ls.accept()
        n += 1
        say('conn %d' % n)
        threading.Thread(target=serve_one, daemon=True,
                         args=(n, sock, (domain, cert, keyf, ca, vaddr,
                                         int(vport)))).start()


def features(st, n):
    while True:
        el = st.element()
        if tag(el) == '{%s}features' % NS_STREAM:
            mechs = [m.text for m in el.iter('{%s}mechanism' % NS_SASL)]
            say('features %d mechanisms=%s dialback=%s' %
                (n, ','.join(mechs) or '-',
                 'yes' if el.find('{urn:xmpp:features:dialback}dialback')
                 is not None else 'no'))
            return el


def show(el):
    t = tag(el)
    if t == '{%s}error' % NS_STREAM:
        cond = [c.tag.split('}')[1] for c in el
                if c.tag.split('}')[1] != 'text']
        say('stream-error %s' % (cond[0] if cond else '-'))
    else:
        say('element %s' % t)


def show_for(st, seconds, space):
    """Print what arrives for SECONDS; with SPACE, a whitespace
    keep-alive goes out every 2 s meanwhile."""
    end = time.time() + seconds
    while time.time() < end:
        if space:
            st.send(' ')
        try:
            show(st.element(min(2, max(0.1, end - time.time()))))
        except socket.timeout:
            continue


def connect(argv):
    domain, to, src, addr, port, cert, keyf, ca = argv[:8]
    s = socket.create_connection((addr, int(port)), timeout=10,
                                 source_address=(src, 0))
    st = Stream(s)
    st.send(header(domain, to))
    n = 1
    try:
        features(st, n)
        st.send("<starttls xmlns='%s'/>" % NS_TLS)
        st.next()
        ctx = ssl.create_default_context(cafile=ca)
        ctx.load_cert_chain(cert, keyf)
        st.sock = ctx.wrap_socket(st.sock, server_hostname=to)
        st.restart()
        st.send(header(domain, to))
        n += 1
        features(st, n)
        for step in argv[8:]:
            what, _, rest = step.partition(':')
            if what == 'auth':
                mech, _, z = rest.partition(':')
                b64 = '=' if z == '=' else \
                    base64.b64encode(z.encode()).decode()
                st.send("<auth xmlns='%s' mechanism='%s'>%s</auth>" %
                        (NS_SASL, mech, b64))
                while True:
                    el = st.element()
                    if tag(el) == '{%s}success' % NS_SASL:
                        say('auth success')
                        st.restart()
                        st.send(header(domain, to))
                        n += 1
                        features(st, n)
                        break
                    if tag(el) == '{%s}failure' % NS_SASL:
                        say('auth failure %s' %
                            (el[0].tag.split('}')[1] if len(el) else '-'))
                        break
                    show(el)
            elif what == 'db':
                st.send("<db:result from='%s' to='%s'>0123456789abcdef"
                        "</db:result>" % (rest, to))
                while True:
                    el = st.element()
                    if tag(el) == '{%s}result' % NS_DB:
                        say('db-result %s type=%s' %
                            (el.get('to'), el.get('type', 'none')))
                        break
                    show(el)
            elif what in ('space', 'wait'):
                show_for(st, float(rest), what == 'space')
            elif what == 'message':
                jid, _, text = rest.partition(':')
                st.send("<message from='bob@%s/peer' to='%s' type='chat'>"
                        "<body>%s</body></message>" % (domain, jid, text))
                say('sent')
    except (EOFError, OSError, ET.ParseError) as e:
        if not isinstance(e, EOFError):
            say('error %s' % e)
    say('closed')


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2:])
    else:
        connect(sys.argv[2:])
