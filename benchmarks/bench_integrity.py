"""What integrity checks cost, and how a killed prepare ends: prints JSON.

    python benchmarks/bench_integrity.py PATH/WBC-USID [--kills 5]

Prepares WBC-USID-C (2,000 PNGs) in a temporary data home and measures the second prepare
(which re-hashes every cache), ``verify`` and the sha256 of the cache. Then it kills
``bench datasets prepare`` with SIGKILL while its decode workers run, ``--kills`` times, and
records how long the workers outlive it and whether the rerun gives the same fingerprint.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _session(sid: int) -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def _children(pid: int) -> list[int]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("release", type=Path, help="the WBC-USID release root")
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-integrity-"))
    env = {**os.environ, "BENCH_HOME": str(work / "home")}
    prepare = [sys.executable, "-m", "bench.cli", "datasets", "prepare", "wbc-usid-c",
               "--from", str(args.release), "--json"]

    def timed(argv: list[str]) -> tuple[float, subprocess.CompletedProcess]:
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        return time.perf_counter() - started, done

    first, done = timed(prepare)
    fingerprint = json.loads(done.stdout)["fingerprint"]
    second, done = timed(prepare)
    verify, _ = timed([sys.executable, "-m", "bench.cli", "datasets", "verify", "wbc-usid-c"])

    os.environ["BENCH_HOME"] = env["BENCH_HOME"]
    from bench.data import load_prepared
    from bench.data.cache import content_hash

    dataset = load_prepared("wbc-usid-c")
    cache = dataset.folder.cache_dir(dataset.cached_sizes()[0]) / "images.npy"
    started = time.perf_counter()
    content_hash(cache)
    hashing = time.perf_counter() - started

    kills = []
    for attempt in range(args.kills):
        shutil.rmtree(work / "home" / "datasets", ignore_errors=True)
        parent = subprocess.Popen(prepare, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        while len(_children(parent.pid)) < 2 and parent.poll() is None:
            time.sleep(0.01)
        time.sleep(0.2 * attempt)  # kill at different points of the decode
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        killed = time.perf_counter()
        while _session(parent.pid) and time.perf_counter() - killed < 60:
            time.sleep(0.05)
        gone = time.perf_counter() - killed
        time.sleep(2.1)
        _, rerun = timed(prepare)
        kills.append({"workers_gone_after_s": round(gone, 2),
                      "same_fingerprint": json.loads(rerun.stdout)["fingerprint"] == fingerprint,
                      "leftovers": len(list((work / "home" / "datasets" / "wbc-usid-c")
                                            .glob(".tmp-*")))})
    print(json.dumps({
        "images": len(dataset.manifest),
        "cache_mib": round(cache.stat().st_size / 2**20, 1),
        "first_prepare_s": round(first, 2),
        "second_prepare_s": round(second, 2),
        "verify_s": round(verify, 2),
        "cache_sha256_s": round(hashing, 3),
        "kill_9": kills,
    }, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
