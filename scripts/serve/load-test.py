#!/usr/bin/env python3
"""Load test of `POST /api/v1/predict`: C concurrent clients on loopback, N requests each,
bounded in count and time. Prints requests per second, p50/p99 latency, errors, and the
server's resident memory sampled through the run (flat = no growth per request).

Usage: scripts/serve/load-test.py URL SERVER_PID MIDS.csv [--model glycolysis]
       [--clients 32] [--requests 20] [--timeout 600]
(scripts/serve/load-test.sh starts the server and makes the MIDs.)  Standard library only.
"""
import argparse, json, statistics, threading, time, urllib.request, urllib.error


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url"); ap.add_argument("pid", type=int); ap.add_argument("mids")
    ap.add_argument("--model", default="glycolysis"); ap.add_argument("--predictor", default="ann")
    ap.add_argument("--clients", type=int, default=32); ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    body = json.dumps({"model": a.model, "mids": open(a.mids).read(), "predictors": [a.predictor], "stddev": 0.005}).encode()
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.monotonic() + a.timeout
    memory = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            memory.append((time.monotonic(), rss_kib(a.pid)))
            stop.wait(0.5)

    def client(i):
        for _ in range(a.requests):
            if time.monotonic() > deadline:
                with lock: errors.append("deadline")
                return
            req = urllib.request.Request(a.url + "/api/v1/predict", data=body, headers={"Content-Type": "application/json"})
            t = time.monotonic()
            err = "bad response"
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    payload = json.load(r)
                    ok = r.status == 200 and payload["samples"][0]["predictions"][0]["result"]["fluxes"]
            except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
                ok = False; err = repr(e)
            dt = time.monotonic() - t
            with lock:
                if ok: latencies.append(dt)
                else: errors.append(err)

    # Warm up: one request (bundle load), not counted.
    urllib.request.urlopen(urllib.request.Request(a.url + "/api/v1/predict", data=body, headers={"Content-Type": "application/json"}), timeout=300).read()
    base = rss_kib(a.pid)
    threading.Thread(target=sampler, daemon=True).start()
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads: t.start()
    for t in threads: t.join()
    wall = time.monotonic() - t0
    stop.set()
    lat = sorted(latencies)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    third = max(1, len(memory) // 3)
    first, last = [m for _, m in memory[:third]], [m for _, m in memory[-third:]]
    report = {"clients": a.clients, "requests": len(lat) + len(errors), "ok": len(lat), "errors": len(errors),
              "seconds": round(wall, 2), "requests_per_second": round(len(lat) / wall, 2),
              "p50_ms": round(q(0.50), 1), "p99_ms": round(q(0.99), 1), "max_ms": round(lat[-1] * 1000, 1) if lat else None,
              "rss_mib_after_warmup": round(base / 1024, 1),
              "rss_mib_first_third_mean": round(statistics.mean(first) / 1024, 1) if first else None,
              "rss_mib_last_third_mean": round(statistics.mean(last) / 1024, 1) if last else None,
              "rss_mib_max": round(max(m for _, m in memory) / 1024, 1) if memory else None,
              "rss_mib_by_quarter": [round(statistics.mean(q) / 1024, 1) for q in
                                     (list(m for _, m in memory[i * len(memory) // 4:(i + 1) * len(memory) // 4]) for i in range(4)) if q],
              "first_errors": errors[:3]}
    print(json.dumps(report, indent=1))
    raise SystemExit(0 if not errors else 1)


if __name__ == "__main__":
    main()
