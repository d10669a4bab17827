#!/usr/bin/python3
"""xmppc.py -- an XMPP user of a real server, driven line by line.

A test's XMPP user: a slixmpp client that logs in to the server at
ADDR:PORT from its own source address, reads commands from stdin (one
per line, usually a FIFO) and prints what the user would see, one event
per line, flushed at once, so that a shell test can wait for it.

Usage: xmppc.py JID PASSWORD SRC ADDR PORT CAFILE

Commands:
  presence available|chat|away|xa|dnd|unavailable [STATUS TEXT]
  subscribe JID        ask JID for its presence (roster add)
  unsubscribe JID      stop seeing JID's presence
  approve yes|no       answer later subscription requests: subscribed
                       or unsubscribed (the default: yes)
  message JID TEXT     a chat message
  probe JID            ask the server for JID's last presence
  quit

Events:
  online
  subscribe-request from=JID answered=subscribed|unsubscribed
  subscribed from=JID | unsubscribed from=JID
  presence from=JID type=available|unavailable show=SHOW status=TEXT
  message from=JID type=TYPE body=TEXT
  error from=JID kind=message|presence condition=COND
  disconnected
"""
import asyncio
import logging
import sys

import slixmpp


class User(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.approve = True
        # The user decides on each request; the roster does not.
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.add_event_handler('session_start', self.start)
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('message_error', self.on_message)
        self.add_event_handler('presence_subscribe', self.on_subscribe)
        self.add_event_handler('presence_subscribed',
                               lambda p: self.say('subscribed from=%s' %
                                                  p['from'].bare))
        self.add_event_handler('presence_unsubscribed',
                               lambda p: self.say('unsubscribed from=%s' %
                                                  p['from'].bare))
        # slixmpp names an available presence's event by its show
        for kind in ('available', 'chat', 'away', 'xa', 'dnd',
                     'unavailable'):
            self.add_event_handler('presence_' + kind, self.on_presence)
        self.add_event_handler('presence_error', self.on_presence_error)
        self.add_event_handler('disconnected',
                               lambda e: self.say('disconnected'))

    @staticmethod
    def say(line):
        print(line.replace('\n', ' '), flush=True)

    async def start(self, event):
        await self.get_roster()
        self.send_presence()
        self.say('online')

    def on_message(self, msg):
        if msg['type'] == 'error':
            self.say('error from=%s kind=message condition=%s' %
                     (msg['from'].bare, msg['error']['condition']))
            return
        if msg['body']:
            self.say('message from=%s type=%s body=%s' %
                     (msg['from'].bare, msg['type'], msg['body']))

    def on_subscribe(self, pres):
        answer = 'subscribed' if self.approve else 'unsubscribed'
        self.send_presence(pto=pres['from'].bare, ptype=answer)
        self.say('subscribe-request from=%s answered=%s' %
                 (pres['from'].bare, answer))

    def on_presence(self, pres):
        if pres['from'].bare == self.boundjid.bare:
            return
        kind = 'unavailable' if pres['type'] == 'unavailable' \
            else 'available'
        self.say('presence from=%s type=%s show=%s status=%s' %
                 (pres['from'].bare, kind, pres['show'] or '-',
                  pres['status'] or '-'))

    def on_presence_error(self, pres):
        self.say('error from=%s kind=presence condition=%s' %
                 (pres['from'].bare, pres['error']['condition']))

    def command(self, line):
        words = line.split(None, 2)
        if not words:
            return
        cmd, rest = words[0], words[1:]
        if cmd == 'presence':
            state = rest[0] if rest else 'available'
            status = rest[1] if len(rest) > 1 else None
            if state == 'unavailable':
                self.send_presence(ptype='unavailable', pstatus=status)
            elif state == 'available':
                self.send_presence(pstatus=status)
            else:
                self.send_presence(pshow=state, pstatus=status)
        elif cmd == 'subscribe':
            self.send_presence(pto=rest[0], ptype='subscribe')
        elif cmd == 'unsubscribe':
            self.send_presence(pto=rest[0], ptype='unsubscribe')
        elif cmd == 'approve':
            self.approve = rest[:1] == ['yes']
        elif cmd == 'message':
            self.send_message(mto=rest[0], mbody=rest[1] if len(rest) > 1
                              else '', mtype='chat')
        elif cmd == 'probe':
            self.send_presence(pto=rest[0], ptype='probe')
        elif cmd == 'quit':
            self.disconnect()
        else:
            self.say('unknown command %s' % cmd)


def main():
    if len(sys.argv) != 7:
        sys.stderr.write('usage: xmppc.py JID PASSWORD SRC ADDR PORT '
                         'CAFILE\n')
        return 2
    jid, password, src, addr, port, cafile = sys.argv[1:]
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    loop = asyncio.get_event_loop()
    connect = loop.create_connection

    # This user's host is SRC: every connection leaves from it.
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
