"""Reference data: the registry, where files live, and fetching them with integrity checks.

The registry (``reference_data/registry.yaml``) is data: for each dataset id its ``file`` (path
inside the data directory), upstream ``url``, ``sha256``, ``size``, licence and citation.
:func:`fetch` returns a local path to a file whose sha256 matches the registry, downloading it
with pooch when it is not present. A file with the wrong content is never used, and never
deleted or overwritten either (soilbench did not necessarily write it): it is left where it is
when no verified copy can be downloaded, and moved aside to ``<name>.modified-<sha256 prefix>``
when a verified download replaces it; the messages say which.

Where files live (:func:`data_dir`), first match wins:

1. the ``data_dir`` argument (the command line's ``--data-dir``);
2. the environment variable ``SOILBENCH_DATA_DIR``;
3. ``../shared/data`` beside the project root, when that directory exists;
4. the user cache, ``pooch.os_cache("soilbench")``.

Downloads go into the resolved directory when soilbench may write there, otherwise into the user
cache. The environment variable ``SOILBENCH_DATA_URL_BASE`` (or the ``url_base`` argument) replaces
every upstream URL by ``<base>/<file>``: a mirror laid out like the data directory.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import logging
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from soilbench import yamlsafe
from soilbench.errors import DataNotAvailable, SoilbenchError

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


def _project_root() -> Path:
    """Where ``reference_data/``, ``catalogs/`` and ``confrontations/`` live.

    In a source checkout (and an editable install) that is the checkout; a wheel installs the
    same folders as data-files under ``<prefix>/share/soilbench`` (see pyproject.toml).
    """
    checkout = PACKAGE_DIR.parent
    if (checkout / "reference_data" / "registry.yaml").is_file():
        return checkout
    installed = Path(sys.prefix) / "share" / "soilbench"
    return installed if (installed / "reference_data" / "registry.yaml").is_file() else checkout


PROJECT_ROOT = _project_root()
REFERENCE_DIR = PROJECT_ROOT / "reference_data"  # the registry and shipped tables (literature_*.csv)
REGISTRY_PATH = REFERENCE_DIR / "registry.yaml"
DATA_DIR_ENV = "SOILBENCH_DATA_DIR"
URL_BASE_ENV = "SOILBENCH_DATA_URL_BASE"
# A synthetic world's registry (soilbench.synthetic): used instead of REGISTRY_PATH only when
# named here *and* the file declares `synthetic: true`; runs using it are labelled synthetic.
SYNTHETIC_REGISTRY_ENV = "SOILBENCH_SYNTHETIC_REGISTRY"
DOWNLOAD_TIMEOUT_S = 60

_REQUIRED_KEYS = ("id", "file", "url", "sha256")

# (resolved path, size, mtime_ns) -> sha256: re-hashing megabytes on every fetch is wasteful,
# and a changed file changes its size or mtime.
_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_registry(path: Path) -> dict[str, dict[str, Any]]:
    try:
        document = yamlsafe.load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SoilbenchError(path, f"cannot read the data registry: {' '.join(str(err).split())}") from err
    if not isinstance(document, dict) or not isinstance(document.get("datasets"), list):
        raise SoilbenchError(path, "the registry must be a mapping with a 'datasets' list")
    entries: dict[str, dict[str, Any]] = {}
    for position, item in enumerate(document["datasets"]):
        where = f"{path} (datasets[{position}])"
        if not isinstance(item, dict):
            raise SoilbenchError(where, "each dataset must be a mapping")
        missing = [key for key in _REQUIRED_KEYS if not item.get(key)]
        if missing:
            raise SoilbenchError(where, f"missing {', '.join(missing)}", item.get("id"))
        if item["id"] in entries:
            raise SoilbenchError(path, "dataset id is registered twice", item["id"])
        _check_relative_file(item["file"], where)
        entries[item["id"]] = dict(item)
    return entries


def _check_relative_file(file: str, where: str) -> None:
    """A registry ``file`` must stay inside the data directory."""
    if not isinstance(file, str) or file.startswith(("/", "~")) or "\\" in file:
        parts = ()
    else:
        parts = PurePosixPath(file).parts
    if ".." in parts or not parts:
        raise SoilbenchError(where, f"file {file!r} must be a relative path inside the data directory")


@functools.lru_cache(maxsize=4)
def _declares_synthetic(path: Path) -> bool:
    try:
        document = yamlsafe.load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SoilbenchError(path, f"cannot read the synthetic registry: {' '.join(str(err).split())}") from err
    return isinstance(document, dict) and document.get("synthetic") is True


def synthetic_registry() -> Path | None:
    """The synthetic world's registry in use (``SOILBENCH_SYNTHETIC_REGISTRY``), or None.

    Its sha256s are those of generated files; it is honoured only when the file itself says
    ``synthetic: true``, so real data is always checked against the real registry.
    """
    named = os.environ.get(SYNTHETIC_REGISTRY_ENV)
    if not named:
        return None
    path = Path(named).expanduser().resolve()
    if not _declares_synthetic(path):
        raise SoilbenchError(path, f"named by {SYNTHETIC_REGISTRY_ENV} but does not declare 'synthetic: true'")
    return path


@contextlib.contextmanager
def use_registry(path: str | os.PathLike | None) -> Iterator[None]:
    """Use a synthetic world's registry inside the block (and in processes started inside it)."""
    previous = os.environ.get(SYNTHETIC_REGISTRY_ENV)
    try:
        if path is not None:
            os.environ[SYNTHETIC_REGISTRY_ENV] = str(Path(path).resolve())
            synthetic_registry()  # fail now, not at the first fetch, if it is not a synthetic registry
        yield
    finally:
        if previous is None:
            os.environ.pop(SYNTHETIC_REGISTRY_ENV, None)
        else:
            os.environ[SYNTHETIC_REGISTRY_ENV] = previous


def registry(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """All registered datasets, id → entry (a copy; safe to modify).

    Parameters
    ----------
    path
        Registry file to read; the project's ``reference_data/registry.yaml`` by default, or the
        synthetic registry selected with :func:`use_registry`.
    """
    entries = _load_registry(Path(path) if path else (synthetic_registry() or REGISTRY_PATH))
    return {key: dict(value) for key, value in entries.items()}


def entry(dataset_id: str) -> dict[str, Any]:
    """The registry entry of ``dataset_id``; unknown ids raise with the closest known ids."""
    entries = registry()
    if dataset_id not in entries:
        close = difflib.get_close_matches(str(dataset_id), list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known ids: {', '.join(sorted(entries))}"
        raise SoilbenchError(synthetic_registry() or REGISTRY_PATH, f"unknown dataset id {dataset_id!r}{hint}")
    return entries[dataset_id]


def user_cache_dir() -> Path:
    """The per-user download cache (honours ``XDG_CACHE_HOME`` on Linux)."""
    import pooch  # imported when needed: pooch brings requests, which ``soilbench --help`` does not need

    return Path(pooch.os_cache("soilbench"))


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The directory reference files are looked up in (see the module docstring for the order)."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return user_cache_dir()


_resolve_dir = data_dir  # the name ``data_dir`` is also the parameter of the functions below


def is_writable(directory: Path) -> bool:
    """Whether soilbench may write into ``directory`` (created later if missing).

    Permission bits are respected even when running as root, who could write anyway: a
    directory made read-only (the shared data copy) must not receive downloads.
    """
    directory = Path(directory)
    while not directory.exists():
        if directory.parent == directory:
            return False
        directory = directory.parent
    try:
        mode = directory.stat().st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) and bool(mode & stat.S_IWUSR) and os.access(directory, os.W_OK | os.X_OK)


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, remembered per (path, size, mtime) for this process."""
    path = Path(path).resolve()
    info = path.stat()
    key = (str(path), info.st_size, info.st_mtime_ns)
    with _hash_lock:
        if key in _hash_cache:
            return _hash_cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _hash_lock:
        _hash_cache[key] = value
    return value


def verify(path: str | os.PathLike, dataset_id: str) -> str | None:
    """Check a local file against the registry; ``None`` when it matches, else what is wrong."""
    record = entry(dataset_id)
    path = Path(path)
    size = path.stat().st_size
    if record.get("size") is not None and size != int(record["size"]):
        return f"has {size} bytes, the registry says {record['size']}"
    actual = sha256_of(path)
    if actual != record["sha256"].lower():
        return f"has sha256 {actual}, the registry says {record['sha256']}"
    return None


def candidate_paths(dataset_id: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where a dataset's file may be: the resolved data directory, then the download cache."""
    record = entry(dataset_id)
    directory = _resolve_dir(data_dir)
    paths = [directory / record["file"]]
    download = download_dir(directory) / record["file"]
    if download not in paths:
        paths.append(download)
    return paths


def download_dir(directory: Path) -> Path:
    """Downloads go into ``directory`` when writable, else into the user cache."""
    return directory if is_writable(directory) else user_cache_dir()


def locate(dataset_id: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """A verified local copy of ``dataset_id`` without touching the network, or ``None``.

    Raises
    ------
    SoilbenchError
        When a copy is present with the wrong content in a directory soilbench may not write to
        (it cannot be replaced, and using it would silently give wrong results).
    """
    for path in candidate_paths(dataset_id, data_dir):
        if not path.is_file():
            continue
        problem = verify(path, dataset_id)
        if problem is None:
            return path
        if not is_writable(path.parent):
            raise SoilbenchError(
                path, f"{problem}; the file of dataset '{dataset_id}' is modified or corrupt and the "
                "directory is read-only: replace it with the registered file or use another --data-dir"
            )
        log.warning("%s: %s; not used (a verified copy is needed; the file itself is left in place)", path, problem)
    return None


def source_url(dataset_id: str, url_base: str | None = None) -> str:
    """The URL a dataset is downloaded from: upstream, or ``<url_base>/<file>`` for a mirror."""
    record = entry(dataset_id)
    base = url_base if url_base is not None else os.environ.get(URL_BASE_ENV)
    if base:
        return f"{base.rstrip('/')}/{record['file']}"
    return record["url"]


def fetch(
    dataset_id: str,
    data_dir: str | os.PathLike | None = None,
    *,
    allow_download: bool = True,
    url_base: str | None = None,
    progressbar: bool = False,
) -> Path:
    """A local path to the verified file of ``dataset_id``, downloading it when needed.

    Parameters
    ----------
    dataset_id
        A registry id (``cardamom-rh``, ``srdb-v5-data``...).
    data_dir
        Explicit data directory (else ``SOILBENCH_DATA_DIR``, ``../shared/data``, user cache).
    allow_download
        When False, a missing file raises instead of being downloaded.
    url_base
        Download from ``<url_base>/<file>`` instead of the upstream URL (a mirror; tests).
    progressbar
        Show a tqdm progress bar while downloading.

    Raises
    ------
    DataNotAvailable
        The file is absent and cannot be downloaded (offline, server error, wrong content).
    SoilbenchError
        Unknown id, or a modified copy in a read-only directory.
    """
    record = entry(dataset_id)
    found = locate(dataset_id, data_dir)
    if found is not None:
        return found
    directory = _resolve_dir(data_dir)
    url = source_url(dataset_id, url_base)
    target = download_dir(directory) / record["file"]
    seed_hint = (
        f"copy the file to {directory / record['file']} or set {DATA_DIR_ENV} to a directory holding "
        f"{record['file']}"
    )
    if record.get("derived_from") and not (url_base or os.environ.get(URL_BASE_ENV)):
        # the registered sha256 is that of a reformatted file: the upstream URL can never match it
        raise DataNotAvailable(
            f"dataset '{dataset_id}'",
            f"not in {directory}{_kept_note(target)} and cannot be downloaded as is "
            f"(derived from {url}: {record['derived_from']}); "
            f"{seed_hint}",
        )
    if not allow_download:
        raise DataNotAvailable(
            f"dataset '{dataset_id}'",
            f"not in {directory}{_kept_note(target)} and downloads are disabled; get it from {url} and {seed_hint}",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s", dataset_id, url)
    import pooch

    # The download goes to a file of soilbench's own beside the target; a file already at the
    # target (someone's own copy, edited or corrupt) is never overwritten or deleted: it is moved
    # aside only once a verified download is there to replace it.
    staging = target.with_name(f".{target.name}.soilbench-download")
    try:
        pooch.retrieve(
            url,
            known_hash=f"sha256:{record['sha256'].lower()}",
            fname=staging.name,
            path=target.parent,
            downloader=pooch.HTTPDownloader(progressbar=progressbar, timeout=DOWNLOAD_TIMEOUT_S),
        )
    except Exception as err:  # requests, urllib3 and pooch raise many types; all mean "not available"
        staging.unlink(missing_ok=True)  # ours, and unverified
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise DataNotAvailable(
            f"dataset '{dataset_id}'", f"download from {url} failed ({reason}){_kept_note(target)}; {seed_hint}"
        ) from err
    problem = verify(staging, dataset_id)
    if problem is not None:  # pooch checked it already; belt and braces for a racing writer
        staging.unlink(missing_ok=True)
        raise DataNotAvailable(f"dataset '{dataset_id}'", f"download from {url} {problem}; {seed_hint}")
    if target.exists():
        aside = _move_aside(target)
        log.warning("%s did not match the registry; it was moved to %s and replaced by the verified download",
                    target, aside)
    os.replace(staging, target)
    return target


def _kept_note(target: Path) -> str:
    """For an error message: what happened to a mismatching file at the target (nothing)."""
    if not target.is_file():
        return ""
    return f"; the file already at {target} does not match the registry, was not used and was left untouched"


def _move_aside(path: Path) -> Path:
    """Rename a file soilbench did not write to a free ``<name>.modified-<sha256 prefix>[-n]``."""
    stem = f"{path.name}.modified-{sha256_of(path)[:12]}"
    aside = path.with_name(stem)
    number = 1
    while aside.exists():
        aside = path.with_name(f"{stem}-{number}")
        number += 1
    os.replace(path, aside)
    return aside


def status(dataset_id: str, data_dir: str | os.PathLike | None = None) -> tuple[str, Path]:
    """``(state, path)`` without network: state is ``verified``, ``missing`` or ``modified: ...``."""
    paths = candidate_paths(dataset_id, data_dir)
    for path in paths:
        if path.is_file():
            problem = verify(path, dataset_id)
            return ("verified" if problem is None else f"modified: {problem}"), path
    return "missing", paths[0]
