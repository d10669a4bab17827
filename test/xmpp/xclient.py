#!/usr/bin/python3
"""xclient.py -- an XMPP user for the tests (slixmpp).

  xclient.py JID PASSWORD HOST PORT CAFILE TO TEXT TIMEOUT

Logs in over STARTTLS (certificate checked against CAFILE), sends one
chat message TO, and prints what comes back, one line each:
  LOGIN ok
  ERROR from=JID type=TYPE condition=COND
  MESSAGE from=JID body=TEXT
Exits 0 when an answer arrived, 1 when none came within TIMEOUT seconds,
2 when the login failed.
"""
import asyncio
import ssl
import sys

import slixmpp


class User(slixmpp.ClientXMPP):
    def __init__(self, jid, pw, cafile, to, text):
        super().__init__(jid, pw)
        self.to, self.text = to, text
        self.answered = asyncio.Event()
        self.failed = False
        ctx = ssl.create_default_context(cafile=cafile)
        self.ssl_context = ctx
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.fail)
        self.add_event_handler("message", self.msg)
        self.add_event_handler("message_error", self.msg)

    async def start(self, _ev):
        print("LOGIN ok", flush=True)
        self.send_presence()
        self.send_message(mto=self.to, mbody=self.text, mtype="chat")

    def fail(self, _ev):
        print("LOGIN failed", flush=True)
        self.failed = True
        self.answered.set()

    def msg(self, m):
        if self.answered.is_set():
            return
        if m["type"] == "error":
            print("ERROR from=%s type=%s condition=%s" %
                  (m["from"], m["error"]["type"], m["error"]["condition"]),
                  flush=True)
        else:
            print("MESSAGE from=%s body=%s" % (m["from"], m["body"]),
                  flush=True)
        self.answered.set()


def main():
    jid, pw, host, port, cafile, to, text, tmo = sys.argv[1:9]
    u = User(jid, pw, cafile, to, text)
    u.connect(address=(host, int(port)), use_ssl=False,
              force_starttls=True)
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(u.answered.wait(),
                                                 float(tmo)))
    except asyncio.TimeoutError:
        print("TIMEOUT", flush=True)
        u.disconnect()
        return 1
    u.disconnect()
    return 2 if u.failed else 0


if __name__ == "__main__":
    sys.exit(main())
