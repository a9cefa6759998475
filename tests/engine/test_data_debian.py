"""Fashion-MNIST from Debian's package (a small fake .deb built here: no network) and availability."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.data import DataError, availability, loader
from engine.data.dataset import Splits
from engine.data.debian import PACKAGE, PACKAGE_DIR, apt_download, load_debian_package
from engine.data.idx import IDX_NAMES
from engine.data.npz import save_npz_atomic
from engine.data.sources import resolve

from .tiny_data import TINY_SPEC, tiny_splits

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


def idx_bytes(splits: Splits) -> dict[str, bytes]:
    arrays = (splits.x_train.reshape(-1, 28, 28), splits.y_train, splits.x_test.reshape(-1, 28, 28), splits.y_test)
    out = {}
    for (base, magic), a in zip(IDX_NAMES, arrays, strict=True):
        header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in a.shape)
        out[base] = header + a.astype(np.uint8).tobytes()
    return out


def build_deb(where: Path, files: dict[str, bytes]) -> Path:
    """A package laid out as dataset-fashion-mnist is, holding ``files`` gzipped."""
    root = where / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {PACKAGE}\nVersion: 0.0-test\nArchitecture: all\nMaintainer: tests <t@example.org>\n"
        "Description: a fake for normlab's tests\n")
    data = root / PACKAGE_DIR
    data.mkdir(parents=True)
    for base, raw in files.items():
        (data / f"{base}.gz").write_bytes(gzip.compress(raw))
    deb = where / f"{PACKAGE}_0.0-test_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True,
                   capture_output=True)
    return deb


def fetched_from(deb: Path, calls: list[Path] | None = None):  # type: ignore[no-untyped-def]
    """A download step that hands over ``deb`` as apt-get download would (into the given directory)."""
    def download(dest: Path, progress) -> Path:  # type: ignore[no-untyped-def]
        if calls is not None:
            calls.append(dest)
        return Path(shutil.copy(deb, dest))
    return download


def test_the_package_is_unpacked_checked_and_read(tmp_path: Path) -> None:
    splits = tiny_splits(11)
    files = idx_bytes(splits)
    deb = build_deb(tmp_path, files)
    hashes = {base: hashlib.sha256(raw).hexdigest() for base, raw in files.items()}
    calls: list[Path] = []
    got = load_debian_package(download=fetched_from(deb, calls), hashes=hashes)
    assert np.array_equal(got.x_train, splits.x_train) and np.array_equal(got.y_test, splits.y_test)
    assert not calls[0].exists()  # unpacked in a temporary directory, gone afterwards


def test_a_file_with_other_data_is_refused_by_its_hash(tmp_path: Path) -> None:
    files = idx_bytes(tiny_splits(12))
    hashes = {base: hashlib.sha256(raw).hexdigest() for base, raw in files.items()}
    hashes["t10k-labels-idx1-ubyte"] = "0" * 64
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: sha256 [0-9a-f]{64} of its data, expected 0{64}"):
        load_debian_package(download=fetched_from(build_deb(tmp_path, files)), hashes=hashes)


def test_a_package_without_the_files_or_a_broken_deb_is_explained(tmp_path: Path) -> None:
    empty = build_deb(tmp_path, {})
    with pytest.raises(DataError, match=f"holds no IDX files under /{PACKAGE_DIR}"):
        load_debian_package(download=fetched_from(empty), hashes={})
    broken = tmp_path / "broken" / f"{PACKAGE}_1_all.deb"
    broken.parent.mkdir()
    broken.write_bytes(b"not a package")
    with pytest.raises(DataError, match=r"dpkg-deb -x .* failed \(exit \d+\)"):
        load_debian_package(download=fetched_from(broken), hashes={})


def test_without_apt_get_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get on it
    with pytest.raises(DataError, match="apt-get is not available"):
        apt_download(tmp_path)


def test_fashion_sources_end_with_the_download_and_cache_it(tmp_path: Path) -> None:
    files = idx_bytes(tiny_splits(13))
    hashes = {base: hashlib.sha256(raw).hexdigest() for base, raw in files.items()}
    deb = build_deb(tmp_path, files)
    cache = tmp_path / "cache"
    sources = loader.fashion_sources(None, cache, debian_dir=tmp_path / "not-installed",
                                     debian_download=lambda progress: load_debian_package(
                                         progress, fetched_from(deb), hashes))
    d = resolve("fashion-mnist", sources, TINY_SPEC, cache / "fashion-mnist.npz", lambda m, f: None)
    assert d.source.startswith(f"apt-get download {PACKAGE}")
    assert (cache / "fashion-mnist.npz").is_file()
    assert availability("fashion-mnist", cache).ready  # the next run reads the cache


def test_when_no_source_works_one_error_names_every_source(tmp_path: Path) -> None:
    def offline(progress):  # type: ignore[no-untyped-def]
        raise DataError("apt-get download dataset-fashion-mnist failed (exit 100): E: offline in tests")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    sources = loader.fashion_sources(data_dir, data_dir, debian_dir=tmp_path / "none", debian_download=offline)
    with pytest.raises(DataError) as info:
        resolve("fashion-mnist", sources, TINY_SPEC, None, lambda m, f: None, loader.FASHION_HINT)
    lines = str(info.value).splitlines()
    assert lines[1:5] == [f"  1. file {data_dir / 'fashion-mnist.npz'}: not found",
                          f"  2. IDX files in {data_dir}: not found",
                          f"  3. Debian package {PACKAGE} ({tmp_path / 'none'}): not found",
                          f"  4. apt-get download {PACKAGE} (Debian package, unpacked, not installed): "
                          "apt-get download dataset-fashion-mnist failed (exit 100): E: offline in tests"]
    assert "normlab data --dataset fashion-mnist" in lines[5]


def test_availability_looks_at_names_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "DEBIAN_FASHION_DIR", tmp_path / "not-installed")
    assert availability("synthetic").available
    fashion = availability("fashion-mnist", tmp_path)
    assert (fashion.available, fashion.ready) == (False, False)
    assert fashion.command == f"normlab data --dataset fashion-mnist --data-dir {tmp_path}"
    mnist = availability("mnist", tmp_path)
    assert (mnist.available, mnist.ready) == (True, False)  # a run downloads MNIST by itself
    (tmp_path / "mnist.npz").write_bytes(b"garbage")  # not read: a run that finds it broken says so
    assert availability("mnist", tmp_path).ready and not availability("fashion-mnist", tmp_path).available
    save_npz_atomic(tmp_path / "fashion-mnist.npz", tiny_splits())
    assert availability("fashion-mnist", tmp_path).ready
    for base, raw in idx_bytes(tiny_splits()).items():
        (tmp_path / "idx" / base).parent.mkdir(exist_ok=True)
        (tmp_path / "idx" / base).write_bytes(raw)
    assert availability("fashion-mnist", tmp_path / "idx").ready
    (tmp_path / "idx" / "t10k-labels-idx1-ubyte").unlink()  # three of four: a run would fail
    assert not availability("fashion-mnist", tmp_path / "idx").available
    with pytest.raises(ValueError, match="unknown dataset"):
        availability("cifar")
