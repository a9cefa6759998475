"""A one-minute soak of a real `normlab serve`: open tabs, runs, polling and sockets leave no growth behind."""
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_soak.py"


def test_a_minute_of_dashboard_traffic_grows_no_descriptors_threads_or_memory():
    result = subprocess.run([sys.executable, str(BENCH), "--minutes", "1", "--interval", "5", "--warmup", "15", "--check"],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "verdict: FLAT" in result.stdout
