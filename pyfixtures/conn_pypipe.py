"""Create multiprocessing.Pipe() in Python and hand its ends to a Go process.

The Go side is any program that echoes messages on the fds given in the
MPWIRE_ECHO_RFD / MPWIRE_ECHO_WFD environment variables (the connection
package's test binary does, when MPWIRE_CONN_HELPER=echo). Python makes the
pipes, starts the Go program with the child ends in pass_fds, closes its
copies, sends messages and checks the echoes, then prints OK.

    python3 pyfixtures/conn_pypipe.py --go ./connection.test --duplex
"""
import os
import subprocess
import sys
from multiprocessing import Pipe

import _fixture


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--go", required=True, help="Go program (argv[0]) to start")
    p.add_argument("--go-arg", action="append", default=[], help="extra argument for the Go program")
    p.add_argument("--duplex", action="store_true", help="one duplex Pipe() instead of two one-way ones")
    p.add_argument("--size", type=int, action="append", default=[],
                   help="payload sizes to send (default 0 1 65536)")
    args = p.parse_args()
    _fixture.start(args)
    sizes = args.size or [0, 1, 65536]
    if args.duplex:
        ours, theirs = Pipe(duplex=True)
        send = recv = ours
        child_fds = (theirs.fileno(),)
        env_r = env_w = theirs.fileno()
        close_after = [theirs]
    else:
        go_r, py_w = Pipe(duplex=False)   # Python -> Go
        py_r, go_w = Pipe(duplex=False)   # Go -> Python
        send, recv = py_w, py_r
        child_fds = (go_r.fileno(), go_w.fileno())
        env_r, env_w = go_r.fileno(), go_w.fileno()
        close_after = [go_r, go_w]
    env = dict(os.environ, MPWIRE_CONN_HELPER="echo",
               MPWIRE_ECHO_RFD=str(env_r), MPWIRE_ECHO_WFD=str(env_w))
    child = subprocess.Popen([args.go] + args.go_arg, pass_fds=child_fds, env=env)
    for c in close_after:
        c.close()
    for i, n in enumerate(sizes):
        payload = bytes((i + j) % 251 for j in range(min(n, 251))) * (n // 251 + 1)
        payload = payload[:n]
        send.send_bytes(payload)
        if not recv.poll(30):
            raise SystemExit("no echo within 30s")
        back = recv.recv_bytes()
        if back != payload:
            raise SystemExit("echo of %d bytes differs (got %d bytes)" % (n, len(back)))
    send.close()
    if not args.duplex:
        # The Go side sees EOF, returns and closes its write end.
        try:
            recv.recv_bytes()
            raise SystemExit("expected EOFError after the Go side closed")
        except EOFError:
            pass
        recv.close()
    rc = child.wait(30)
    if rc != 0:
        raise SystemExit("Go helper exited with %d" % rc)
    print("OK %d message(s) duplex=%s Python %d.%d" % ((len(sizes), args.duplex) + sys.version_info[:2]), flush=True)


if __name__ == "__main__":
    main()
