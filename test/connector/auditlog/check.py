"""Compare the audit record's syslog datagrams (argv[1]) with its file
(argv[2]): every syslog line is "<PRI>Mmm dd hh:mm:ss stconnector[PID]: "
with PRI the facility argv[3] (local0..7) at priority info, then the
same JSON line as the file's, in the same order.  argv[4]: how many
lines each must hold at least.  Prints what differs; exit 1 if any."""
import json
import re
import sys

slog, flog, fac, least = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pri = (16 + int(fac[len("local"):])) * 8 + 6
head = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d stconnector\[(\d+)\]: (.*)$")
bad = []
sys_lines = []
for raw in open(slog, encoding="utf-8"):
    m = head.match(raw.rstrip("\n"))
    if not m:
        bad.append("not syslog format: %r" % raw[:80])
        continue
    if int(m.group(1)) != pri:
        bad.append("priority %s, want %d (%s.info)" % (m.group(1), pri, fac))
    sys_lines.append(json.loads(m.group(3)))
file_lines = [json.loads(l) for l in open(flog, encoding="utf-8")]
if len(sys_lines) < least:
    bad.append("%d syslog lines, want at least %d" % (len(sys_lines), least))
if sys_lines != file_lines:
    bad.append("syslog and file differ: %d vs %d lines" % (len(sys_lines), len(file_lines)))
if not any(l.get("event") == "message" and l.get("direction") == "out"
           and l.get("community") == "chicago" and l.get("result") == 200
           for l in sys_lines):
    bad.append("no message out to chicago with result 200")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
