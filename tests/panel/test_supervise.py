from __future__ import annotations

import sys
import time

from panel.supervise import supervise


def test_when_one_process_exits_the_others_are_stopped() -> None:
    started = time.monotonic()
    code = supervise(
        {
            "long": [sys.executable, "-c", "import time; time.sleep(60)"],
            "short": [sys.executable, "-c", "raise SystemExit(3)"],
        }
    )
    assert code == 1 and time.monotonic() - started < 10
