"""Shared fixtures: a fresh data home per test, and fake installed distributions for plugins."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import socket
import struct
import sys
import tempfile
import textwrap
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import PLUGINS

import bench

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parents[1] / "shared"
_CONNECT, _CREATE_CONNECTION = socket.socket.connect, socket.create_connection  # the real ones
LFS_SUFFIXES = (".bin", ".safetensors", ".pth", ".pt")  # the hub keeps these in Git LFS
WBC_USID = SHARED / "data" / "WBC-USID"


# -- the user's own homes are never touched ---------------------------------------------------
# Every home a test could write to (the data home, the XDG cache, the Hugging Face and torch
# caches, matplotlib's) points into one temporary folder for the whole session, set before
# collection (parametrisation reads the registries) and in os.environ itself, so that a test's
# `monkeypatch.undo()` falls back to it and never to the user's. The user's real data home and
# cache, and the checkout itself (tests copy what they build from), are fingerprinted before
# and compared after: a change fails the run.
_HOME_VARIABLES = ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "BENCH_HOME",
                   "HF_HOME", "HF_HUB_CACHE", "TORCH_HOME", "MPLCONFIGDIR")


CHECKOUT = TESTS.parent


def _source_folder(name: str) -> bool:
    """Not git, the venv, caches or pip's install metadata: what changes with no test at fault."""
    return (name not in {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
            and not name.endswith(".egg-info"))


def _real_homes() -> dict[str, Path]:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    data_home = Path(os.environ.get("BENCH_HOME") or cache / "bench").expanduser()
    return {"data home": data_home, "cache": cache, "checkout": CHECKOUT}


def _files(root: Path, keep: Callable[[str], bool] = lambda _: True
           ) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (size, mtime), in the folders whose name ``keep`` accepts."""
    files = {}
    for folder, folders, names in os.walk(root):
        folders[:] = [f for f in folders if keep(f)]
        for name in names:
            path = Path(folder, name)
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue
            files[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return files


def _fingerprint(homes: dict[str, Path]) -> dict[str, object]:
    """The data home's and the checkout's every file (size, mtime), the cache's top entries."""
    cache = homes["cache"]
    entries = sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []
    return {"data home": _files(homes["data home"]), "cache": entries,
            "checkout": _files(homes["checkout"], _source_folder)}


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "real_homes"):
        return
    config.real_homes = _real_homes()
    config.real_fingerprint = _fingerprint(config.real_homes)
    safe = Path(tempfile.mkdtemp(prefix="bench-tests-home-"))
    config.safe_home = safe
    for name in _HOME_VARIABLES:
        os.environ[name] = str(safe / name.lower())
    os.environ["HOME"] = str(safe)
    os.environ["BENCH_HOME"] = str(safe / "bench-session-home")


def _which(before: object, after: object) -> str:
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return ""
    paths = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    return f" ({', '.join(paths[:5])}{', ...' if len(paths) > 5 else ''})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not hasattr(config, "real_homes"):
        return
    after = _fingerprint(config.real_homes)
    changed = [f"{what} {config.real_homes[what]}{_which(config.real_fingerprint[what], now)}"
               for what, now in after.items() if now != config.real_fingerprint[what]]
    if changed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        message = (
            f"FAILED: the test suite changed the user's {' and '.join(changed)}; every test "
            f"must write inside its own temporary folders (tests/conftest.py)")
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)


@pytest.fixture(autouse=True)
def bench_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data home per test; plugins and registries are discovered anew."""
    home = tmp_path_factory.mktemp("bench-home")
    monkeypatch.setenv("BENCH_HOME", str(home))
    monkeypatch.delenv("BENCH_DISABLE_PLUGINS", raising=False)
    bench.reset()
    yield home
    bench.reset()


def png_of_zeros(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of black pixels: kilobytes on disk however many pixels it declares."""
    row = bytes(1 + (width + 7) // 8)  # filter byte, then 8 pixels a byte
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


@pytest.fixture(scope="session")
def bomb_pngs() -> dict[str, bytes]:
    """Decompression bombs: 30000x30000 (Pillow refuses it) and 10000x10000 (Pillow warns)."""
    return {"refused": png_of_zeros(30_000, 30_000), "warned": png_of_zeros(10_000, 10_000)}


@pytest.fixture
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """No first-party plugin: boards label results by their stored names, and the paper's
    models have no spec to count (first-party plugins change as other work lands)."""
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "datasets,models,generators")
    bench.reset()


@pytest.fixture
def wbc_usid() -> Path:
    """The official WBC-USID release laid beside the checkout (read-only); skip without it."""
    if not (WBC_USID / "dataset").is_dir():
        pytest.skip(f"the WBC-USID release is not at {WBC_USID}")
    return WBC_USID


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Put a minimal distribution (dist-info + modules) on sys.path, as pip would install it.

    ``install_distribution("acme-bench", {"acme": "acme_plugin"})`` installs the example plugin
    tests/fixtures/plugins/acme_plugin.py: by default each entry point's module is copied from
    there. ``modules`` names them otherwise (module -> a file to copy, or source text: a plugin
    quoted from the documentation), and ``settings`` (a data folder, a URL) are written beside
    each module as ``<module>.json``, where the example plugins read them.
    """

    def install(name: str, entry_points: dict[str, str],
                modules: dict[str, Path | str] | None = None,
                settings: dict[str, object] | None = None) -> Path:
        if modules is None:
            modules = {module: PLUGINS / f"{module}.py" for module in entry_points.values()}
        site = tmp_path / f"site-{name}"
        info = site / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = ["[bench]"] + [f"{key} = {value}" for key, value in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in modules.items():
            code = source.read_text() if isinstance(source, Path) else textwrap.dedent(source)
            (site / f"{module}.py").write_text(code)
            if settings is not None:
                (site / f"{module}.json").write_text(json.dumps(settings))
        monkeypatch.syspath_prepend(str(site))
        # Subprocesses (a real `bench` killed mid-run, say) see the distribution too, and the
        # tests folder, whose tiny models (tests/fixtures/tiny_models.py) the plugins build.
        paths = [str(site), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
        for module in modules:
            sys.modules.pop(module, None)
        return site

    return install


class _Files(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` (path -> bytes), honouring ``Range: bytes=N-`` like a CDN.

    ``server.headers`` (path -> dict) adds response headers, as the Hugging Face hub sends its
    commit and ETag; HEAD answers with the headers alone.
    """

    def _not_found(self) -> None:
        """404, with the hub's headers where a served repo lacks the file (``EntryNotFound``)."""
        self.send_response(404)
        for prefix, headers in self.server.missing.items():
            if self.path.startswith(prefix):
                for name, value in headers.items():
                    self.send_header(name, value)
                break
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
        self.server.requests.append((self.path, "HEAD"))
        body = self.server.files.get(self.path)
        if body is None:
            self._not_found()
            return
        self.send_response(200)
        self._extra_headers()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def _extra_headers(self) -> None:
        for name, value in self.server.headers.get(self.path, {}).items():
            self.send_header(name, value)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.requests.append((self.path, self.headers.get("Range")))
        body = self.server.files.get(self.path)
        if body is None:
            self._not_found()
            return
        start = 0
        if (wanted := self.headers.get("Range", "")).startswith("bytes="):
            start = int(wanted[6:].split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self._extra_headers()
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server():
    """A file server on 127.0.0.1 (no other network): set ``.files``, read ``.requests``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.files, server.requests, server.headers, server.missing = {}, [], {}, {}
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return host in ("127.0.0.1", "localhost", "::1")


@pytest.fixture
def local_hub(http_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A Hugging Face hub on 127.0.0.1: ``serve(repo, {filename: bytes})`` -> its commit.

    Each file answers HEAD and GET at ``/<repo>/resolve/main/<file>`` with the hub's headers: the
    commit (``X-Repo-Commit``) and the ETag, a file's SHA-256 for Git LFS files, its git blob
    hash for small ones. Offline mode is off, ``HF_ENDPOINT`` points here, the hub cache is the
    test's own, and sockets reach loopback only. ``.server`` is the http_server (its
    ``requests``, ``files`` and ``headers``).
    """
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", http_server.url)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-hub-cache"))  # this test's own

    def connect(self, address):
        if not _loopback(address):
            raise OSError("a model test tried to reach the network")
        return _CONNECT(self, address)

    def create_connection(address, *args, **kwargs):
        if not _loopback(address):
            raise OSError("a model test tried to reach the network")
        return _CREATE_CONNECTION(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)

    def serve(repo: str, files: dict[str, bytes]) -> str:
        commit = hashlib.sha1(repo.encode()).hexdigest()
        for name, body in files.items():
            if name.endswith(LFS_SUFFIXES):
                etag = hashlib.sha256(body).hexdigest()
            else:
                etag = hashlib.sha1(f"blob {len(body)}\0".encode() + body).hexdigest()
            path = f"/{repo}/resolve/main/{name}"
            http_server.files[path] = body
            http_server.headers[path] = {"X-Repo-Commit": commit, "ETag": f'"{etag}"'}
        http_server.missing[f"/{repo}/resolve/"] = {"X-Repo-Commit": commit,
                                                    "X-Error-Code": "EntryNotFound"}
        return commit

    serve.server = http_server
    return serve
