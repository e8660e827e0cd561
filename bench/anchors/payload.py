# The payload anchor of bench/ProcessPool.Benchmarks (workload "payload"): Python's multiprocessing.Pool moving a
# bytes argument to one worker, which answers its length, and a bytes result of the same size back, for each size
# given in bytes on the command line. Prints one JSON line per size: MiB/s each way, the median of the timed calls.
import json
import multiprocessing
import os
import statistics
import sys
import time

_made = {}


def length(data):
    return len(data)


def make(size):
    # Made once per size in the worker, as the .NET job does: the result's transfer is timed, not its creation.
    if size not in _made:
        _made.clear()
        _made[size] = os.urandom(size)
    return _made[size]


def main():
    sizes = [int(argument) for argument in sys.argv[1:]]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        for size in sizes:
            count = max(3, min(200, (512 << 20) // size))
            data = os.urandom(size)
            to_worker, to_parent = [], []
            for i in range(count + 1):
                started = time.perf_counter()
                answered = pool.apply(length, (data,))
                sent = time.perf_counter() - started
                started = time.perf_counter()
                received = pool.apply(make, (size,))
                back = time.perf_counter() - started
                if answered != size or len(received) != size:
                    raise SystemExit(f"payload of {size} bytes did not cross whole")
                if i > 0:
                    to_worker.append(size / 1048576 / sent)
                    to_parent.append(size / 1048576 / back)
            print(json.dumps({"size": size, "toWorker": statistics.median(to_worker), "toParent": statistics.median(to_parent)}), flush=True)


if __name__ == "__main__":
    main()
