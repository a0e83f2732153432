#!/usr/bin/env python3
"""fifo_client.py - a client for fifo_server, Python 3 standard library only.

Usage: fifo_client.py DIR    (each line of stdin is sent; each reply is printed)

Any language that can open a file and read a line can talk to the server: the
two FIFOs behave like files without seek().
"""
import os
import sys

if len(sys.argv) != 2:
    sys.exit("usage: fifo_client.py DIR")
directory = sys.argv[1]
# open() waits until the server has its side open; to-server first.
with open(os.path.join(directory, "to-server"), "wb") as to_server, \
        open(os.path.join(directory, "from-server"), "rb") as from_server:
    for line in sys.stdin.buffer:
        to_server.write(line if line.endswith(b"\n") else line + b"\n")
        to_server.flush()  # a buffered line the server never sees is never answered
        reply = from_server.readline()
        if not reply.endswith(b"\n"):
            sys.exit("fifo_client.py: the server closed from-server before replying")
        sys.stdout.buffer.write(reply)
        sys.stdout.flush()
