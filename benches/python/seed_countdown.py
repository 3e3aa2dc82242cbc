"""The seed's program 1 in CPython, for `poolscale seed countdown --python`.

Each of W workers counts down the full count (weak scaling), as threads (which share the GIL)
or as processes. Prints the seed's lines, then one `RESULT {json}` line for poolscale to parse.

    python3 benches/python/seed_countdown.py --count 100000000 --workers 2 --mode threads
"""
import argparse
import json
import sys
import multiprocessing
import threading
import time


def say(line):
    """One write per line, so lines from several processes never interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def countdown(n):
    while n > 0:
        n -= 1


def timed(args):
    name, n = args
    say(f"Starting {name}")
    start = time.time()
    countdown(n)
    took = time.time() - start
    say(f"{name} work time {took:.3f}")
    say(f"Exiting {name}")
    return took


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=100_000_000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--mode", choices=["threads", "processes"], default="threads")
    a = p.parse_args()
    start = time.time()
    if a.mode == "threads":
        times = {}

        def body(name):
            times[name] = timed((name, a.count))

        threads = [
            threading.Thread(target=body, args=(f"Thread_{i + 1}",))
            for i in range(a.workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        each = [times[f"Thread_{i + 1}"] for i in range(a.workers)]
    else:
        with multiprocessing.Pool(a.workers) as pool:
            each = pool.map(timed, [(f"Process_{i + 1}", a.count) for i in range(a.workers)], 1)
    total = time.time() - start
    say("Exiting Main Thread")
    say(f"Total work time {total:.3f}")
    say("RESULT " + json.dumps({"total_s": total, "each_s": each}))


if __name__ == "__main__":
    main()
