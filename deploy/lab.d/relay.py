#!/usr/bin/env python3
"""deploy/lab's fallback TCP relay when socat is missing: relay.py LISTEN_IP LISTEN_PORT
TARGET_IP TARGET_PORT. Forwards every connection both ways until either side closes."""
import socket
import sys
import threading


def pump(src, dst, done):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    # the second direction to finish closes both sockets
    with done[0]:
        done[1] += 1
        last = done[1] == 2
    if last:
        src.close()
        dst.close()


def main():
    lip, lport, tip, tport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lip, lport))
    srv.listen(256)
    while True:
        client, _ = srv.accept()
        try:
            upstream = socket.create_connection((tip, tport), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        done = [threading.Lock(), 0]
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b, done), daemon=True).start()


if __name__ == "__main__":
    main()
