"""Start an ipykernel; the first time (no marker file yet), with its IOPub
port already taken by a socket it inherits, as when another process takes the
port between the server choosing it and the kernel binding it."""
import json
import os
import sys

connection_file, marker = sys.argv[1], sys.argv[2]
argv = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
try:
    os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
except FileExistsError:
    os.execv(sys.executable, argv)

import socket

with open(connection_file) as f:
    port = json.load(f)["iopub_port"]
taken = socket.socket()
taken.bind(("127.0.0.1", port))
taken.listen()
os.set_inheritable(taken.fileno(), True)
os.execv(sys.executable, argv)
