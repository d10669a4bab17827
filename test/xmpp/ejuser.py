#!/usr/bin/python3
"""ejuser.py -- one XMPP user of a real server, driven line by line.

Logs in to the server at ADDR:PORT from the address SRC with STARTTLS,
the server's certificate checked against CAFILE and the JID's domain;
reads commands from stdin (usually a FIFO) and prints what the user
sees, one event per line, flushed at once.

Usage: ejuser.py JID PASSWORD SRC ADDR PORT CAFILE

Commands:  message JID TEXT | quit
Events:    online | tls-failed | auth-failed
           message from=JID type=TYPE body=TEXT
           error from=JID condition=COND
           disconnected
"""
import asyncio
import logging
import sys

import slixmpp


def say(line):
    print(line.replace('\n', ' '), flush=True)


class User(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.add_event_handler('session_start', self.start)
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('ssl_invalid_chain', self.on_bad_tls)
        self.add_event_handler('failed_all_auth',
                               lambda e: (say('auth-failed'),
                                          self.disconnect()))
        self.add_event_handler('disconnected',
                               lambda e: say('disconnected'))

    async def start(self, event):
        self.send_presence()
        say('online')

    def on_bad_tls(self, err):
        say('tls-failed')
        self.disconnect()

    def on_message(self, msg):
        if msg['type'] == 'error':
            say('error from=%s condition=%s' %
                (msg['from'].bare, msg['error']['condition']))
        elif msg['body']:
            say('message from=%s type=%s body=%s' %
                (msg['from'].bare, msg['type'], msg['body']))

    def command(self, line):
        words = line.split(None, 2)
        if words[:1] == ['message'] and len(words) == 3:
            self.send_message(mto=words[1], mbody=words[2], mtype='chat')
        elif words[:1] == ['quit']:
            self.disconnect()
        elif words:
            say('unknown command %s' % words[0])


def main():
    if len(sys.argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    jid, password, src, addr, port, cafile = sys.argv[1:]
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    loop = asyncio.get_event_loop()
    connect = loop.create_connection

    async def from_src(*args, **kwargs):
        kwargs.setdefault('local_addr', (src, 0))
        return await connect(*args, **kwargs)
    loop.create_connection = from_src

    user = User(jid, password)
    user.ca_certs = cafile
    user.connect(address=(addr, int(port)))

    def readable():
        line = sys.stdin.readline()
        if not line:
            loop.remove_reader(sys.stdin.fileno())
            return
        user.command(line.strip())
    loop.add_reader(sys.stdin.fileno(), readable)
    user.add_event_handler('disconnected', lambda e: loop.stop())
    loop.run_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main())
