"""The seed's program 2 in CPython, for `poolscale seed pool --python`.

`Pool(W).map(f, range(ITEMS))` with chunksize 1, where f sleeps NAP seconds and returns x*x.
Prints the seed's lines, then one `RESULT {json}` line with each item's pid and timing.

    python3 benches/python/seed_pool.py --workers 3 --items 10 --nap 1.0
"""
import argparse
import json
import sys
import os
import time
from multiprocessing import Pool

NAP = 1.0


def say(line):
    """One write per line, so lines from several processes never interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def init(nap):
    global NAP
    NAP = nap


def f(x):
    start = time.time()
    say(f"value {x} handled by pid {os.getpid()}")
    time.sleep(NAP)
    return x * x, os.getpid(), start, time.time()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--items", type=int, default=10)
    p.add_argument("--nap", type=float, default=1.0)
    a = p.parse_args()
    pool = Pool(a.workers, initializer=init, initargs=(a.nap,))
    start = time.time()
    out = pool.map(f, range(0, a.items), 1)
    total = time.time() - start
    pool.close()
    pool.join()
    say(str([v for v, _, _, _ in out]))
    say(f"Total work time {total:.3f}")
    items = [
        {"x": x, "pid": pid, "start_s": s - start, "end_s": e - start}
        for x, (_, pid, s, e) in enumerate(out)
    ]
    say("RESULT " + json.dumps({"total_s": total, "results": [v for v, _, _, _ in out], "items": items}))


if __name__ == "__main__":
    main()
