"""The README's commands and Python snippets are the ones that work."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert first_block == [
        "pip install . && scratchvision demo",
        'pip install -e ".[test]" && pip install --no-deps -r tests/requirements-nodeps.txt && python -m pytest',
    ]
    ci = (README.parent / ".ci" / "run").read_text()
    assert first_block[1] in ci  # CI runs the README's test command as written


def test_python_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
