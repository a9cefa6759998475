"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, fetched and unpacked without root.

``apt-get download`` fetches the .deb into a temporary directory (apt checks it against the
signed archive index) and ``dpkg-deb -x`` unpacks it there; nothing is installed. The four IDX
files it holds are then checked against pinned sha256 hashes of their uncompressed bytes (the
compression may change from one package build to the next; the data may not), and read.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .dataset import Splits
from .errors import DataError
from .idx import load_idx_dir
from .progress import Progress, quiet

PACKAGE = "dataset-fashion-mnist"
PACKAGE_DIR = Path("usr/share/datasets/fashion-mnist")  # inside the package, and under / once installed
# sha256 of each file's uncompressed IDX bytes, as unpacked from dataset-fashion-mnist
# 0.0~git20200523.55506a9-1 (Debian bookworm).
IDX_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
TIMEOUT_S = 600.0

Download = Callable[[Path, Progress], Path]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    """Run a packaging tool; any failure becomes a DataError with the tool's last line of output."""
    if shutil.which(cmd[0]) is None:
        raise DataError(f"{cmd[0]} is not available (this is not a Debian or Ubuntu system)")
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DataError(f"{what} did not finish within {TIMEOUT_S:.0f} s") from None
    except OSError as e:
        raise DataError(f"could not run {cmd[0]} ({e})") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("E:")] or lines
        raise DataError(f"{what} failed (exit {done.returncode}): {errors[-1] if errors else 'no output'}")


def apt_download(dest: Path, progress: Progress = quiet) -> Path:
    """``apt-get download dataset-fashion-mnist`` into ``dest``; the .deb's path."""
    progress(f"downloading the Debian package {PACKAGE} with apt-get (about 31 MB)", 0.1)
    _run(["apt-get", "download", "--quiet", PACKAGE], dest, f"apt-get download {PACKAGE}")
    debs = sorted(dest.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise DataError(f"apt-get download {PACKAGE} reported success but left no .deb")
    return debs[0]


def unpack_deb(deb: Path, dest: Path, progress: Progress = quiet) -> Path:
    """``dpkg-deb -x`` the package into ``dest`` (nothing installed); the directory of its IDX files."""
    progress(f"unpacking {deb.name}", 0.5)
    _run(["dpkg-deb", "-x", str(deb), str(dest)], deb.parent, f"dpkg-deb -x {deb.name}")
    return dest / PACKAGE_DIR


def load_debian_package(
    progress: Progress = quiet,
    download: Download = apt_download,
    hashes: dict[str, str] | None = None,
) -> Splits:
    """Fetch and unpack the package in a temporary directory, check its files' hashes and read them."""
    with tempfile.TemporaryDirectory(prefix="normlab-fashion-") as tmp:
        deb = download(Path(tmp), progress)
        directory = unpack_deb(deb, Path(tmp) / "root", progress)
        progress("checking the IDX files' sha256", 0.7)
        splits = load_idx_dir(directory, IDX_SHA256 if hashes is None else hashes)
        if splits is None:
            raise DataError(f"{deb.name} holds no IDX files under /{PACKAGE_DIR}")
        return splits
