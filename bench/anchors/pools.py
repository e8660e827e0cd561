# The anchors of bench/ProcessPool.Benchmarks (workload "anchors"): Python's own process pools, multiprocessing.Pool
# and concurrent.futures.ProcessPoolExecutor (2 workers, fork, the Linux default), on the workloads of the README's
# table, with the same trivial job (x + 1). Arguments: the concurrent calls and the map's items (the bench's sizes).
# Prints one JSON line per figure: {"pool", "workload", "metric", "unit", "value"}. Throughputs are the median of 5
# timed rounds after one warm-up round; round trips are timed after 200 warm-up calls.
import concurrent.futures
import json
import math
import multiprocessing
import statistics
import sys
import time

WORKERS = 2


def trivial(x):
    return x + 1


def emit(pool, workload, metric, unit, value):
    print(json.dumps({"pool": pool, "workload": workload, "metric": metric, "unit": unit, "value": value}), flush=True)


def rate(count, run):
    run()  # warm-up
    times = []
    for _ in range(5):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return count / statistics.median(times)


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class MultiprocessingPool:
    name = "multiprocessing.Pool"

    def __init__(self, context, **options):
        self.pool = context.Pool(WORKERS, **options)

    def call(self, x):
        return self.pool.apply(trivial, (x,))

    def concurrent(self, count):
        results = [self.pool.apply_async(trivial, (i,)) for i in range(count)]
        return [r.get() for r in results]

    def map(self, count):
        return self.pool.map(trivial, range(count))

    def pids(self):
        return [p.pid for p in self.pool._pool]

    def close(self):
        self.pool.terminate()
        self.pool.join()


class Executor:
    name = "ProcessPoolExecutor"

    def __init__(self, context):
        self.pool = concurrent.futures.ProcessPoolExecutor(WORKERS, mp_context=context)

    def call(self, x):
        return self.pool.submit(trivial, x).result()

    def concurrent(self, count):
        futures = [self.pool.submit(trivial, i) for i in range(count)]
        return [f.result() for f in futures]

    def map(self, count):
        # The chunk size multiprocessing.Pool.map picks by default: without one, the executor sends items one by one.
        chunk = max(1, math.ceil(count / (4 * WORKERS)))
        return list(self.pool.map(trivial, range(count), chunksize=chunk))

    def pids(self):
        return list(self.pool._processes.keys())

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


def measure(make, concurrent_calls, map_items):
    started = time.perf_counter()
    pool = make()
    first = pool.call(1)
    cold = (time.perf_counter() - started) * 1000
    assert first == 2
    name = pool.name
    emit(name, "cold start (2 workers)", "start to first result", "ms", cold)

    for i in range(200):
        pool.call(i)
    trips = []
    for i in range(2000):
        started = time.perf_counter()
        pool.call(i)
        trips.append((time.perf_counter() - started) * 1e6)
    emit(name, "round trip", "p50", "us", percentile(trips, 50))
    emit(name, "round trip", "p99", "us", percentile(trips, 99))

    emit(name, f"{concurrent_calls:,} concurrent calls", "throughput", "jobs/s", rate(concurrent_calls, lambda: pool.concurrent(concurrent_calls)))
    emit(name, f"Map of {map_items:,}", "awaited", "items/s", rate(map_items, lambda: pool.map(map_items)))

    pool.close()

    # A fresh pool that ran one call, then idles: as the bench measures its own idle workers.
    idle = make()
    idle.call(1)
    time.sleep(2)
    emit(name, "idle worker", "resident memory", "MiB", max(resident_mib(pid) for pid in idle.pids()))
    idle.close()


def recycling(context, jobs=100):
    # One task per child: every job starts a process (the bench's recycling row).
    pool = context.Pool(WORKERS, maxtasksperchild=1)
    try:
        pool.apply(trivial, (0,))
        started = time.perf_counter()
        results = [pool.apply_async(trivial, (i,)) for i in range(jobs)]
        for r in results:
            r.get()
        emit("multiprocessing.Pool", "recycling: maxtasksperchild = 1, 100 jobs", "throughput", "jobs/s", jobs / (time.perf_counter() - started))
    finally:
        pool.terminate()
        pool.join()


def main():
    concurrent_calls, map_items = (int(a) for a in sys.argv[1:3])
    context = multiprocessing.get_context("fork")
    measure(lambda: MultiprocessingPool(context), concurrent_calls, map_items)
    measure(lambda: Executor(context), concurrent_calls, map_items)
    recycling(context)


if __name__ == "__main__":
    main()
