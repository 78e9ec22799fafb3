#!/usr/bin/python3
"""A no-op milter for `deno task bench plugins`: Postfix sends it the envelope, every
header and the whole body (none of the callbacks is declined), and it answers CONTINUE to
each and ACCEPT at the end of the message. Debian's python3-milter (pymilter, libmilter).

Usage: /usr/bin/python3 milter_noop.py NAME PORT COUNTFILE   (inet:PORT@127.0.0.1)
Every 100 messages it writes how many it has seen to COUNTFILE (proof that Postfix used it).
"""
import os
import sys
import threading

import Milter


seen = 0
lock = threading.Lock()
count_file = ""


class Noop(Milter.Base):
    def envfrom(self, mailfrom, *params):
        return Milter.CONTINUE

    def envrcpt(self, rcpt, *params):
        return Milter.CONTINUE

    def header(self, name, value):
        return Milter.CONTINUE

    def eoh(self):
        return Milter.CONTINUE

    def body(self, chunk):
        return Milter.CONTINUE

    def eom(self):
        global seen
        with lock:
            seen += 1
            if seen % 100 == 0:
                with open(count_file + ".tmp", "w") as f:
                    f.write(str(seen))
                os.replace(count_file + ".tmp", count_file)
        return Milter.ACCEPT


def main():
    global count_file
    name, port, count_file = sys.argv[1], sys.argv[2], sys.argv[3]
    Milter.factory = Noop
    print(f"milter {name} listening on 127.0.0.1:{port}", flush=True)
    Milter.runmilter(name, f"inet:{port}@127.0.0.1", timeout=60)


if __name__ == "__main__":
    main()
