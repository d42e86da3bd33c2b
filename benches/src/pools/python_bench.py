"""Python's stdlib concurrent.futures.ThreadPoolExecutor, driven by executor-bench.

Started once as `python3 -u -c <this file> WORKERS IO_WORKERS`; reads one command
a line on stdin, answers one line on stdout. Times itself with perf_counter_ns
(the pools and the process already exist, as on the Rust side); the checksum is
computed after the clock stops. `mix` and `kernel` match benches/src/work.rs.
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

M = (1 << 64) - 1
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407
MIX_START = 0xCBF29CE484222325
MIX_PRIME = 0x100000001B3


def mix_all(xs):
    acc = MIX_START
    for x in xs:
        acc = ((acc ^ x) * MIX_PRIME) & M
    return acc


def kernel(x, iters):
    for _ in range(iters):
        x = (x * LCG_A + LCG_C) & M
        x ^= x >> 29
    return x


def ident(i):
    return i


def sleeper(seconds, i):
    time.sleep(seconds)
    return i


def calibrate(target_ns):
    probe, calls, best = 50, 2000, None
    for _ in range(3):
        t = time.perf_counter_ns()
        for i in range(calls):
            kernel(i, probe)
        dt = time.perf_counter_ns() - t
        best = dt if best is None else min(best, dt)
    return max(1, round(target_ns / (best / (calls * probe))))


def main():
    pool = ThreadPoolExecutor(max_workers=int(sys.argv[1]))
    io_pool = ThreadPoolExecutor(max_workers=int(sys.argv[2]))
    print("ready", sys.version.split()[0], flush=True)
    for line in sys.stdin:
        cmd, *args = line.split()
        args = [int(a) for a in args]
        if cmd == "quit":
            break
        if cmd == "calibrate":
            print(calibrate(args[0]), flush=True)
            continue
        t = time.perf_counter_ns()
        if cmd == "w1":
            futures = [pool.submit(ident, i) for i in range(args[0])]
            out = [f.result() for f in futures]
        elif cmd == "w2":
            out = list(pool.map(partial(kernel, iters=args[1]), range(args[0])))
        elif cmd == "w4":
            task = partial(sleeper, args[1] / 1e6)
            futures = [io_pool.submit(task, i) for i in range(args[0])]
            out = [f.result() for f in futures]
        else:
            raise SystemExit("unknown command " + cmd)
        dt = time.perf_counter_ns() - t
        print(dt, mix_all(out), flush=True)
    pool.shutdown()
    io_pool.shutdown()


main()
