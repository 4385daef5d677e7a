"""A small web API in the shape of the typical crt workload: configured by
environment variables, a health endpoint, logs on stdout, data in a
volume, graceful shutdown on SIGTERM or SIGINT. Standard library only, so
the host's Python (bind-mounted /usr) runs it."""

import http.server
import os
import signal
import sys
import threading

greeting = os.environ.get("APP_GREETING")
if not greeting:
    print("app: APP_GREETING is not set", file=sys.stderr, flush=True)
    sys.exit(3)

data_dir = os.environ.get("APP_DATA", "/data")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/health" else (greeting + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("app: " + fmt % args, flush=True)


server = http.server.HTTPServer(("127.0.0.1", 8080), Handler)


def shutdown(signum, frame):
    print(f"app: graceful shutdown on signal {signum}", flush=True)
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, shutdown)
signal.signal(signal.SIGINT, shutdown)
with open(os.path.join(data_dir, "started"), "w") as f:
    f.write(f"pid={os.getpid()} uid={os.getuid()} cwd={os.getcwd()}\n")
print(f"app: listening as uid {os.getuid()} pid {os.getpid()} in {os.getcwd()}", flush=True)
server.serve_forever()
server.server_close()
print("app: bye", flush=True)
sys.exit(0)
