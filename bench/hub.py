"""Pretrained files by name: the weights folder first, then the local caches, then the network.

A model plugin says which files its pretrained weights are (:class:`WeightFile`: a Hugging Face
repo and file name, or a URL) and asks :func:`pretrained_file` for a local path. Bench looks in

1. the weights folder (:func:`weights_folder`): ``BENCH_WEIGHTS``, else ``weights`` in the data
   home's ``settings.toml``, else ``<data home>/weights``. `bench weights download` and
   `bench weights unpack` fill it; it has the Hugging Face cache layout, plus ``urls/``;
2. the Hugging Face cache (``HF_HUB_CACHE``, ``HF_HOME``), or torch hub's for a URL;
3. the network, unless ``HF_HUB_OFFLINE`` is set or one connection to the host (its proxy, if
   one is set) fails within :data:`PROBE_SECONDS`. A download is verified: against the pinned
   SHA-256 if the plugin gives one, else the hub's own checksum (a Git LFS file's ETag is its
   SHA-256, a small file's its git blob hash).

When none has it, :class:`WeightsUnavailable` names the three ways out at once: huggingface_hub
would otherwise retry an unreachable hub for half a minute and more before failing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import sys
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError, RunError
from bench.home import data_home
from bench.weights import file_sha256

log = logging.getLogger(__name__)

FOLDER_ENV = "BENCH_WEIGHTS"
SETTINGS_FILE = "settings.toml"  # in the data home: weights = "/shared/bench-weights"
URL_FOLDER = "urls"  # plain downloads inside a weights folder
PROBE_SECONDS = 1.5  # one connection attempt to the host before any download
_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class WeightFile:
    """One file a model's pretrained weights need: a file of a Hugging Face repo, or a URL.

    ``filenames`` are tried in order and the first the repo has wins (timm's repos hold
    ``model.safetensors``, older ones ``pytorch_model.bin``). ``sha256`` pins the content where
    the publisher states it; otherwise the hub's own checksum is checked.

    Example: ``WeightFile(repo="MarrLab/DinoBloom", filenames=("pytorch_model_s.bin",))``.
    """

    repo: str = ""
    filenames: tuple[str, ...] = ()
    revision: str | None = None
    url: str = ""
    sha256: str | None = None

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.repo and self.filenames):
            raise ValueError("a WeightFile is either repo= and filenames=, or url=")

    @property
    def name(self) -> str:
        """How messages and listings name it: ``repo/file`` or the URL."""
        if self.url:
            return self.url
        return f"{self.repo}/{self.filenames[0]}" + (f"@{self.revision}" if self.revision else "")

    @property
    def url_filename(self) -> str:
        return Path(urllib.parse.urlparse(self.url).path).name

    def describe(self) -> str:
        if self.url:
            return f"{self.url_filename} from {self.url}"
        return f"{' or '.join(self.filenames)} of the Hugging Face repo {self.repo}"


class WeightsUnavailable(RunError):
    """Pretrained weights are nowhere on this machine and cannot be fetched now.

    The message names where bench looked, why the network was not tried (or failed), and the
    three ways out; :meth:`for_model` fills in the model's name for the commands it suggests.
    """

    def __init__(self, files: list[WeightFile], why: str, *, model: str = "",
                 label: str = ""):
        self.files, self.why, self.model, self.label = files, why, model, label
        super().__init__(self._text())

    def for_model(self, model: str, label: str) -> WeightsUnavailable:
        return WeightsUnavailable(self.files, self.why, model=model, label=label)

    def _text(self) -> str:
        folder, chosen = weights_folder()
        what = "; ".join(file.describe() for file in self.files)
        caches = ("torch hub's cache " + str(torch_hub_dir()) if all(f.url for f in self.files)
                  else f"the Hugging Face cache {hf_cache_dir()}")
        model = self.model or "MODEL"
        return (
            f"{self.label or 'the model'} needs its pretrained weights ({what}), which are not in "
            f"the weights folder {folder} ({chosen}) nor in {caches}, and {self.why}. Nothing "
            f"was trained. Three ways out: (1) --weights PATH: a local copy of those weights "
            f"(safetensors or a plain state dict); (2) on a machine with internet, `bench weights "
            f"download {model} --to DIR` and `bench weights pack weights.tar --from DIR`; here, "
            f"`bench weights unpack weights.tar` (or point {FOLDER_ENV} at a copy of DIR); "
            f"(3) --no-pretrained: random initialisation, which departs from the protocol's "
            f"pretraining."
        )


# -- where files are looked for ---------------------------------------------------------------

def weights_folder() -> tuple[Path, str]:
    """The weights folder and what chose it: ``BENCH_WEIGHTS``, the settings file, the default."""
    if os.environ.get(FOLDER_ENV):
        return Path(os.environ[FOLDER_ENV]).expanduser(), f"set by {FOLDER_ENV}"
    home = data_home(create=False)
    settings = home / SETTINGS_FILE
    if settings.is_file():
        from bench.tomlfile import parse_toml

        value = parse_toml(settings.read_text(encoding="utf-8"), str(settings),
                           BenchError).get("weights")
        if isinstance(value, str) and value:
            return home / Path(value).expanduser(), f"set in {settings}"
    return home / "weights", f"the default; set {FOLDER_ENV} to use another"


def hf_offline() -> bool:
    """Read at call time: huggingface_hub reads HF_HUB_OFFLINE only once, at import."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    return value in {"1", "ON", "YES", "TRUE"} or bool(constants.HF_HUB_OFFLINE)


def hf_cache_dir() -> Path:
    """The hub cache as the environment says now (HF_HUB_CACHE, then HF_HOME/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def hf_endpoint() -> str:
    """The hub's address as the environment says now (``HF_ENDPOINT`` for a mirror)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def torch_hub_dir() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def find_local(file: WeightFile, folder: Path | None = None) -> tuple[Path, str] | None:
    """Find ``file`` in the weights folder, then in the caches: (path, source), or None.

    Given ``folder`` (where `bench weights download --to` puts files), only there.
    """
    weights = folder if folder is not None else weights_folder()[0]
    if file.url:
        places = [(weights / URL_FOLDER / file.url_filename, "weights-folder")]
        if folder is None:
            places.append((torch_hub_dir() / file.url_filename, "torch-hub-cache"))
        return next(((path, source) for path, source in places if path.is_file()), None)
    from huggingface_hub import try_to_load_from_cache

    caches = [(weights, "weights-folder")] + ([] if folder else [(hf_cache_dir(), "hf-cache")])
    for cache, source in caches:
        for filename in file.filenames:
            found = try_to_load_from_cache(file.repo, filename, cache_dir=cache,
                                           revision=file.revision)
            if isinstance(found, str):  # otherwise None or a "known not to exist" marker
                return Path(found), source
    return None


def pretrained_file(file: WeightFile) -> tuple[Path, str]:
    """A local path to ``file`` and where it came from, fetching it only when it is nowhere here.

    Sources: ``weights-folder``, ``hf-cache``, ``torch-hub-cache`` or ``hub`` (just fetched and
    verified). Raises :class:`WeightsUnavailable` at once when offline or unreachable.
    """
    found = find_local(file)
    if found is not None:
        return found
    return fetch(file), "hub"


# -- fetching ---------------------------------------------------------------------------------

def offline_reason(file: WeightFile) -> str | None:
    """Why the network must not be tried for ``file`` now, or None when its host answers."""
    if hf_offline():
        return "HF_HUB_OFFLINE is set"
    address = file.url or hf_endpoint()
    parts = urllib.parse.urlsplit(address)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxied = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = proxied.hostname or host, proxied.port or 80
    failure = _probe(host, port)
    if failure is None:
        return None
    return (f"{parts.scheme}://{parts.netloc} cannot be reached ({failure}; one connection "
            f"tried, at most {PROBE_SECONDS:g} s)")


def _probe(host: str, port: int) -> str | None:
    """Try one TCP connection; a name lookup that hangs counts as no answer."""
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc.strerror or str(exc) or type(exc).__name__)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(PROBE_SECONDS)
    return outcome[0] if outcome else f"no answer within {PROBE_SECONDS:g} s"


def fetch(file: WeightFile, folder: Path | None = None) -> Path:
    """Download ``file`` into ``folder`` (a weights folder) or the default cache; verify it.

    Raises :class:`WeightsUnavailable` when the network must not or cannot be used, and
    :class:`bench.RunError` when the download does not match its checksum (it is removed).
    """
    if (why := offline_reason(file)) is not None:
        raise WeightsUnavailable([file], why)
    try:
        if file.url:
            return _fetch_url(file, folder)
        return _fetch_hub(file, folder)
    except BenchError:
        raise
    except Exception as exc:  # network down after the probe, repo gone, gated: one message
        raise WeightsUnavailable([file], f"the download failed ({type(exc).__name__}: "
                                         f"{str(exc).strip().splitlines()[0] if str(exc) else ''})"
                                 ) from exc


def _fetch_url(file: WeightFile, folder: Path | None) -> Path:
    from bench.download import download
    from bench.errors import DataError
    from bench.specs import Download

    target = folder / URL_FOLDER if folder is not None else torch_hub_dir()
    try:
        return download(Download(url=file.url, filename=file.url_filename, sha256=file.sha256),
                        target, progress=sys.stderr.isatty())
    except DataError as exc:
        raise RunError(f"pretrained weights {file.name}: {exc}") from exc


def _fetch_hub(file: WeightFile, folder: Path | None) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    cache = folder if folder is not None else hf_cache_dir()
    for position, filename in enumerate(file.filenames):
        try:
            path = Path(hf_hub_download(file.repo, filename, revision=file.revision,
                                        cache_dir=cache, endpoint=hf_endpoint()))
        except EntryNotFoundError as exc:
            if isinstance(exc, LocalEntryNotFoundError) or position == len(file.filenames) - 1:
                raise  # the hub is unreachable, or the repo has none of the names
            continue  # the repo has no such file: try the next name
        verify_hub_file(path, file)
        return path
    raise AssertionError("unreachable: a WeightFile has at least one file name")


def verify_hub_file(path: Path, file: WeightFile) -> str:
    """Check a hub download against its pinned SHA-256 or the hub's ETag; return its SHA-256.

    huggingface_hub names a blob after its ETag: the SHA-256 of a Git LFS file, the git blob
    hash of a small one. A mismatch removes the download and raises :class:`bench.RunError`.
    """
    digest = file_sha256(path)
    blob = path.resolve()
    etag = blob.name if blob.parent.name == "blobs" else ""
    problem = None
    if file.sha256 and digest != file.sha256.lower():
        problem = f"its SHA-256 is {digest}, the publisher's {file.sha256.lower()}"
    elif _SHA256.fullmatch(etag) and digest != etag:
        problem = f"its SHA-256 is {digest}, the hub's {etag}"
    elif _GIT_SHA1.fullmatch(etag) and git_blob_sha1(path) != etag:
        problem = f"its git blob hash is {git_blob_sha1(path)}, the hub's {etag}"
    if problem:
        for stale in {path, blob}:
            stale.unlink(missing_ok=True)
        raise RunError(f"the download of {file.name} is corrupt: {problem}. It was removed; "
                       f"run the same command again to fetch it anew.")
    return digest


def git_blob_sha1(path: Path) -> str:
    """The hash git (and the hub) gives a file's content: sha1 of "blob SIZE", NUL, bytes."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = ["FOLDER_ENV", "WeightFile", "WeightsUnavailable", "fetch", "find_local",
           "pretrained_file", "weights_folder"]
