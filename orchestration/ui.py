"""`make ui`: the Dagster UI and daemon (`dagster dev -w workspace.yaml`), stopped by Ctrl-C
within seconds.

`dagster dev` shuts its webserver, daemon and code server down one after the other on Ctrl-C,
which took up to 45 s on a busy machine. This wrapper gives it a few seconds, then ends what is
left of it, marks runs whose worker went with it as failed (their pool slots freed, so the
next run takes the warehouse), and says so.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.recovery import recover
from orchestration.terminal_run import Signals, exit_code, exit_now, signal_name, stop_children

# How long `dagster dev` gets to shut itself down before the rest is ended.
SHUTDOWN_SECONDS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The Dagster UI and daemon for this project.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-w", "workspace.yaml", "-h", args.host, "-p", args.port]
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    with Signals().caught() as signals:
        child = subprocess.Popen(command)
        while child.poll() is None and not signals.received.wait(0.5):
            pass
        if not signals.received.is_set():
            return child.returncode
        print(f"\nStopping the Dagster UI and daemon ({signal_name(signals.signum)})…", flush=True)
        if child.poll() is None:
            child.send_signal(signals.signum)  # Ctrl-C reached it too; SIGTERM may not have
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        stop_children(grace_seconds=2.0)
        with dg.DagsterInstance.get() as instance:
            for done in recover(instance):
                print(f"recovered: {done}", flush=True)
        print("Stopped: the UI, the daemon and the runs they had started are down.", flush=True)
        exit_now(exit_code(signals.signum))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
