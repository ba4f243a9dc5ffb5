#!/usr/bin/env python3
"""The disk's floor under a durable write, for reading the wake benchmark's figures.

Prints p50/p99 of fdatasync after a 4 KiB overwrite and after an 8 KiB append (a file that
grows also syncs its size), and of a one-row SQLite commit in WAL mode with
synchronous=FULL (what our storage runs). A wake whose action writes cannot answer faster
than the commit floor, because its answer waits until the write is durable.

Run: python3 rivet-actor-bench/fsync_floor.py [dir]   (default: the system temp dir)
"""

import os
import random
import sqlite3
import sys
import tempfile
import time


def percentiles(samples):
    samples.sort()
    n = len(samples)
    return samples[n // 2] * 1e6, samples[int(n * 0.99)] * 1e6


def fdatasync_floor(path, append, rounds=400):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    try:
        if not append:
            os.write(fd, b"x" * (4 << 20))
            os.fsync(fd)
        samples = []
        for i in range(rounds):
            size = 8192 if append else 4096
            os.pwrite(fd, b"y" * size, i * size if append else (i % 512) * size)
            start = time.perf_counter()
            os.fdatasync(fd)
            samples.append(time.perf_counter() - start)
        return percentiles(samples)
    finally:
        os.close(fd)


def sqlite_floor(path, rounds=2000):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=FULL")
    db.execute("create table t(k integer primary key, v blob)")
    db.execute("begin")
    for k in range(10_000):
        db.execute("insert into t values(?, ?)", (k, b"x" * 100))
    db.execute("commit")
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        db.execute("begin")
        db.execute("update t set v = ? where k = ?", (os.urandom(100), random.randrange(10_000)))
        db.execute("commit")
        samples.append(time.perf_counter() - start)
    db.close()
    return percentiles(samples)


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory(dir=base) as dir:
        for name, floor in [
            ("fdatasync, 4 KiB overwrite", lambda: fdatasync_floor(os.path.join(dir, "o"), False)),
            ("fdatasync, 8 KiB append", lambda: fdatasync_floor(os.path.join(dir, "a"), True)),
            ("SQLite commit (WAL, FULL)", lambda: sqlite_floor(os.path.join(dir, "db"))),
        ]:
            p50, p99 = floor()
            print(f"{name:28} p50 {p50:7.0f} us   p99 {p99:7.0f} us")


if __name__ == "__main__":
    main()
