"""Regenerate the screenshots of docs/report.md: ``python docs/screenshots.py``.

From the README tour's demo project (``csframe init tour --demo --customers 2000``, with a
fixed ``--end`` so that the pictures do not move with the date), in a temporary directory:
``csframe report … -o report.html --images images``, then Debian's headless Chromium
(``apt-get install chromium``) takes a screenshot of the page's top, and two of the PNGs
``--images`` wrote are copied beside it. Needs the ``report`` extra (``pip install -e
'.[report]'``) and Pillow (matplotlib's dependency) to crop."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "report"
END = "2025-01-01"
RANGE = ["--start", "2024-01-01", "--end", END]


def _csframe(*args: str) -> None:
    exe = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
    subprocess.run([exe, *args], check=True)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    sys.exit("Debian's chromium is needed: apt-get install -y chromium")


def main() -> None:
    from PIL import Image

    HERE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _csframe("init", str(t / "tour"), "--demo", "--customers", "2000", "--end", END)
        page, images = t / "report.html", t / "images"
        _csframe("report", "--project", str(t / "tour"), *RANGE, "-o", str(page), "--images", str(images))
        full = t / "full.png"
        subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=20000",
                        "--window-size=1300,5200", f"--screenshot={full}", page.as_uri()],
                       check=True, capture_output=True)
        with Image.open(full) as im:
            im.crop((0, 0, 1300, 1650)).save(HERE / "report-top.png", optimize=True)
            im.crop((0, 3090, 1300, 4730)).save(HERE / "report-churn.png", optimize=True)
        for name in ("mrr_bridge", "churn_rate"):
            shutil.copyfile(images / f"{name}.png", HERE / f"{name}.png")
    for p in sorted(HERE.glob("*.png")):
        print(f"wrote {p.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
