"""How long a run takes to say its pretrained weights cannot be had: bench against huggingface_hub.

Each case asks for a timm model's pretrained weights with an empty cache and times the failure:

- ``offline``: HF_HUB_OFFLINE=1, the air-gapped setting;
- ``refused``: the hub's port answers "connection refused" (HF_ENDPOINT at a closed local port);
- ``silent``: the hub never answers (HF_ENDPOINT at a local socket that accepts nothing), as
  behind a firewall that drops packets.

For each, bench's check before a matrix starts (``ensure_pretrained_weights``) and
huggingface_hub's own ``hf_hub_download`` of the same file (what a plugin calling it directly
would wait; stopped at ``--limit`` seconds). Prints one JSON object.

Usage: python benchmarks/bench_offline_weights.py [--model timm:test_vit] [--limit 120]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import threading
import time


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connections are refused
    return port


def silent_port() -> tuple[list[socket.socket], int]:
    """A socket that is bound but never accepts: connections hang until they time out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    held = [server]
    try:  # fill the backlog: then a connection attempt gets no answer at all
        while len(held) < 8:
            held.append(socket.create_connection(server.getsockname(), timeout=1))
    except TimeoutError:
        pass
    return held, server.getsockname()[1]


def timed(call, limit: float) -> dict:
    outcome: dict = {}

    def run() -> None:
        started = time.perf_counter()
        try:
            call()
            outcome["error"] = None
        except Exception as exc:  # noqa: BLE001 - the failure is what is measured
            outcome["error"] = type(exc).__name__
        outcome["seconds"] = round(time.perf_counter() - started, 3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    return outcome if outcome else {"seconds": None, "error": f"still waiting after {limit} s"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm:test_vit")
    parser.add_argument("--limit", type=float, default=120.0)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-offline-")
    os.environ.update(BENCH_HOME=f"{home}/bench", HF_HOME=f"{home}/hf",
                      HF_HUB_CACHE=f"{home}/hf/hub", TORCH_HOME=f"{home}/torch")

    import bench
    from bench.models import ensure_pretrained_weights, factory_of

    spec = bench.get_registries().models.get(args.model)
    wanted = factory_of(spec).weight_files()[0]
    held, silent_at = silent_port()
    cases = {"offline": {"HF_HUB_OFFLINE": "1"},
             "refused": {"HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}"},
             "silent": {"HF_ENDPOINT": f"http://127.0.0.1:{silent_at}"}}
    results = {}
    for name, environment in cases.items():
        os.environ.pop("HF_HUB_OFFLINE", None)
        os.environ.pop("HF_ENDPOINT", None)
        os.environ.update(environment)
        from huggingface_hub import constants, hf_hub_download

        constants.HF_HUB_OFFLINE = name == "offline"
        endpoint = os.environ.get("HF_ENDPOINT")
        results[name] = {
            "bench": timed(lambda: ensure_pretrained_weights(spec), args.limit),
            "huggingface_hub": timed(lambda endpoint=endpoint: hf_hub_download(
                wanted.repo, wanted.filenames[0], cache_dir=f"{home}/hf/hub",
                endpoint=endpoint), args.limit),
        }
    for sock in held:
        sock.close()
    print(json.dumps({"model": args.model, "file": wanted.name, "limit_seconds": args.limit,
                      "cases": results}, indent=2))


if __name__ == "__main__":
    main()
