"""A syslog daemon for one test: receive datagrams on a Unix socket
(argv[1], made mode 0666) and append each as one line to argv[2], as it
came (trailing newlines stripped).  Runs until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        d = s.recv(262144)
        f.write(d.rstrip(b"\n") + b"\n")
