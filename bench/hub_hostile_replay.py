#!/usr/bin/env python3
"""Replays issue 8's findings 1, 4 and 5 against a real `lightvault serve` on loopback (started
as `make run` starts it, in a fresh data folder) and reports, per attack, the server's RSS growth
(VmRSS before/after and VmHWM, from /proc) and whether it still answers.

  python3 bench/hub_hostile_replay.py [--binary build/lightvault] [--port 18950]

Stdlib only. Exit status 1 if any attack without a token grows RSS by 64 MiB or more, or the
server stops answering."""
import argparse, gzip, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request

TOKEN = "lvt_replay_admin_token_0123456789abcdef"


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def alive(port, timeout=5.0):
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/whoami-v2",
                                     headers={"Authorization": "Bearer " + TOKEN})
        t0 = time.time()
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status == 200, time.time() - t0
    except Exception:
        return False, None


def send_stream(port, head, chunks, seconds):
    """Sends `head`, then chunks from the generator until the server closes or `seconds` pass.
    Returns (status line or '', bytes of body sent)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(0.5)
    sent = 0
    status = ""
    try:
        s.sendall(head)
        end = time.time() + seconds
        for chunk in chunks:
            if time.time() > end:
                break
            try:
                s.sendall(chunk)
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
        s.settimeout(5)
        try:
            status = s.recv(200).split(b"\r\n")[0].decode(errors="replace")
        except Exception:
            pass
    finally:
        s.close()
    return status, sent


def repeat(data, total):
    n = 0
    while n < total:
        yield data
        n += len(data)


def endless(data):
    while True:
        yield data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/lightvault")
    ap.add_argument("--port", type=int, default=18950)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="lv_replay_")
    env = dict(os.environ, LIGHTVAULT_ADMIN_TOKEN=TOKEN)
    proc = subprocess.Popen([args.binary, "serve", "--data", data, "--listen", f"127.0.0.1:{args.port}", "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = args.port
    for _ in range(100):
        if alive(port, 1)[0]:
            break
        time.sleep(0.1)
    # a repository for the routes that name one
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/repos/create", data=b'{"name":"m"}',
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()

    events = b"POST /api/lv/models/admin/m/events HTTP/1.1\r\nHost: x\r\n"
    auth = ("Authorization: Bearer " + TOKEN + "\r\n").encode()
    deep = b'{"action":"model.deploy","details":{"target":"x","n":' + b"[" * 100000 + b"]" * 100000 + b"}}"
    bomb = gzip.compress(b"\0" * (2 << 30), compresslevel=9)  # about 2 MB that inflates to 2 GiB
    mib = b"x" * (1 << 20)
    attacks = [
        ("1  deep JSON (100,000 levels, 600 KB), no token",
         lambda: send_stream(port, events + b"Content-Length: %d\r\n\r\n" % len(deep), iter([deep]), 10), True),
        ("1  deep JSON, with a token",
         lambda: send_stream(port, events + auth + b"Content-Length: %d\r\n\r\n" % len(deep), iter([deep]), 10), False),
        ("4  300 MB body, no token",
         lambda: send_stream(port, events + b"Content-Length: 314572800\r\n\r\n", repeat(mib, 300 << 20), 30), True),
        ("4  300 MB body, with a token",
         lambda: send_stream(port, events + auth + b"Content-Length: 314572800\r\n\r\n", repeat(mib, 300 << 20), 30), False),
        ("4  gzip body (%.1f MB -> 2 GiB), no token" % (len(bomb) / 1e6),
         lambda: send_stream(port, events + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb), iter([bomb]), 20), True),
        ("4  gzip body, with a token",
         lambda: send_stream(port, events + auth + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb), iter([bomb]), 20), False),
        ("4  endless chunked body for 20 s, no token",
         lambda: send_stream(port, events + b"Transfer-Encoding: chunked\r\n\r\n", endless(b"100000\r\n" + mib + b"\r\n"), 20), True),
        ("4  endless chunked body for 20 s, with a token",
         lambda: send_stream(port, events + auth + b"Transfer-Encoding: chunked\r\n\r\n", endless(b"100000\r\n" + mib + b"\r\n"), 20), False),
    ]
    failed = False
    pid = proc.pid
    print(f"{'attack':52} {'answer':28} {'sent':>9} {'RSS before':>11} {'after':>9} {'growth':>8} {'peak':>9}  alive")
    for name, attack, anonymous in attacks:
        before = rss_kib(pid)
        status, sent = attack()
        time.sleep(0.3)
        after, peak = rss_kib(pid), rss_kib(pid, "VmHWM")
        ok, _ = alive(port)
        growth = (max(after, peak) - before) / 1024
        print(f"{name:52} {status[:28]:28} {sent / 1e6:8.1f}M {before / 1024:10.1f}M {after / 1024:8.1f}M "
              f"{growth:7.1f}M {peak / 1024:8.1f}M  {'yes' if ok else 'NO'}")
        if not ok or (anonymous and growth >= 64):
            failed = True
        if proc.poll() is not None:
            print("server exited with", proc.returncode)
            return 1

    # 5: slow clients. Half-sent heads and idle sockets, then ordinary requests.
    for count in (10, 100, 1000):
        before = rss_kib(pid)
        socks = []
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port))
            if i % 2 == 0:
                s.sendall(b"GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        time.sleep(0.5)
        times = []
        for _ in range(10):
            ok, t = alive(port, 5)
            times.append(t if ok else None)
        after = rss_kib(pid)
        served = sum(t is not None for t in times)
        worst = max((t for t in times if t is not None), default=float("nan"))
        print(f"5  {count:5d} slow connections (half-sent heads, idle): {served}/10 requests answered, "
              f"slowest {worst * 1000:.0f} ms, RSS {before / 1024:.1f}M -> {after / 1024:.1f}M")
        if served < 10:
            failed = True
        t0 = time.time()
        for s in socks:  # the head deadline (10 s) closes them
            s.settimeout(15)
            try:
                s.recv(100)
            except Exception:
                pass
        print(f"   all {count} closed by the server within {time.time() - t0:.1f} s")
        for s in socks:
            s.close()

    proc.terminate()
    proc.wait(10)
    shutil.rmtree(data, ignore_errors=True)
    print("FAILED" if failed else "OK: every attack without a token grew RSS < 64 MiB and the server kept serving")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
