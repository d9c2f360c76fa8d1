#!/usr/bin/env python3
"""The web server of the demo's and the end-to-end test's hosts.

GET / answers with who serves and the address the client is seen at; GET /N answers N bytes of
a fixed pattern (body(N) below), for transfers whose content the client checks.
usage: webserver.py NAME ADDRESS PORT"""
import http.server
import socket
import sys


def body(size):
    return bytes((i * 7 + i // 251) & 0xff for i in range(size))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.strip("/")
        if path.isdigit():
            data = body(int(path))
        else:
            data = ("Hello from %s! You reach me from %s.\n"
                    % (sys.argv[1], self.client_address[0])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print("%s: GET %s from %s" % (sys.argv[1], self.path, self.client_address[0]),
              flush=True)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET


if __name__ == "__main__":
    Server((sys.argv[2], int(sys.argv[3])), Handler).serve_forever()
