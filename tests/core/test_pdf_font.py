"""Without the IPAex font file (a developer's machine without fonts-ipaexfont-gothic) the
PDFs still come out, naming reportlab's CID font, so `make demo` works there too."""
from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import waterportal.core.pdf_font as pdf_font
pdf_font.DEFAULT_FONT_PATH = "/nonexistent/ipaexg.ttf"
from waterportal.procedures.debit_pdf import debit_pdf
from tests.procedures.test_debit_pdf import SHEET
data = debit_pdf(SHEET)
assert data.startswith(b"%PDF") and b"HeiseiKakuGo-W5" in data and b"IPAexGothic" not in data
print("fallback ok")
"""


def test_a_missing_font_file_falls_back_to_the_cid_font_with_a_warning():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fallback ok" in done.stdout
    assert "apt-get install fonts-ipaexfont-gothic" in done.stderr  # the warning says what to install
