"""Shipped code and docs cite the project's own docs/ or the papers, never the unshipped design specs.

The design specs (ssm.md, crossbar.md, devices.md, circuits.md, snn.md, texel.md with their section numbers)
do not ship with the package; docs/crossbar.md etc. exist but number their sections differently. So a spec
file name followed by a section number, or ssm.md at all, is an error unless it is a path under docs/. Every
``docs/<page>.md#anchor`` and ``docs/<page>.md §N`` citation must also resolve to a heading of that page.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("aimc_sim", "device_models", "calibration", "chip_models", "workloads")
SPEC_NAMES = "ssm|crossbar|devices|circuits|snn|texel"
# TODO(i18doc): these files were being edited by another helper when the citations were rewritten; the
# integrator removes them from this list once their citations point at docs/ (irdrop.py, array_read.py,
# periphery.py cite crossbar.md §1-§8; device_models/pcm.py and docs/byo.md are listed for the same reason).
PENDING: set[str] = set()
CITATION = re.compile(r"([\w./-]*?)\b(" + SPEC_NAMES + r")\.md(`{0,2}\s*(?:§|sections?\s+\d|\d))?")
BARE_SPEC = re.compile(r"\b[Ss]pec\s+(?:§\s?\d|\d+(?:\.\d+)?\b)")
DOC_ANCHOR = re.compile(r"\bdocs/([\w-]+)\.md#([\w-]+)")
DOC_SECTION = re.compile(r"\bdocs/([\w-]+)\.md`? §(\d+)")


def shipped_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for pkg in PACKAGES:
        for ext in ("py", "md", "yaml", "yml"):
            files += sorted((ROOT / pkg).rglob(f"*.{ext}"))
    return [f for f in files if f.relative_to(ROOT).as_posix() not in PENDING]


def spec_citations(text: str) -> list[str]:
    """Citations of an unshipped spec in ``text``: a spec file name with a section, ssm.md anywhere, or
    "spec §N" without a file name."""
    bad = []
    for m in CITATION.finditer(text):
        prefix, name, section = m.group(1), m.group(2), m.group(3)
        if prefix.endswith("docs/") and not prefix.endswith("spec/docs/"):
            continue
        if name == "ssm" or section or "spec/" in prefix:
            bad.append(m.group(0))
    bad += BARE_SPEC.findall(text)
    return bad


def slug(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def headings(page: str) -> list[str]:
    path = ROOT / "docs" / f"{page}.md"
    if not path.exists():
        return []
    return [ln.lstrip("#").strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("#")]


def test_detector_flags_spec_citations_and_allows_docs_paths():
    assert spec_citations("see crossbar.md §9.3 model D") == ["crossbar.md §"]
    assert spec_citations("(``ssm.md`` 5.3)") and spec_citations("as in ssm.md") == ["ssm.md"]
    assert spec_citations("spec devices.md section 8") and spec_citations("/shared/spec/texel.md")
    assert spec_citations("bias (spec §5.2) and spec 8") == ["spec §5", "spec 8"]
    assert spec_citations("the sweep spec 's keys; test K-1") == []
    assert spec_citations("docs/crossbar.md, pipeline step 6; docs/circuits.md §3 and `docs/snn.md`") == []
    assert slug("Pipeline of `AnalogTile.mvm(x, t)`") == "pipeline-of-analogtilemvmx-t"


def test_shipped_files_cite_no_unshipped_spec():
    offenders = []
    for path in shipped_files():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for cite in spec_citations(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {cite}")
    assert not offenders, "cite docs/<page>.md#section or the paper instead of the spec:\n" + "\n".join(offenders)


def test_docs_citations_resolve():
    missing = []
    for path in shipped_files():
        text = path.read_text(encoding="utf-8")
        for page, anchor in DOC_ANCHOR.findall(text):
            if anchor not in {slug(h) for h in headings(page)}:
                missing.append(f"{path.relative_to(ROOT)}: docs/{page}.md#{anchor}")
        for page, number in DOC_SECTION.findall(text):
            if not any(h.startswith(f"{number}. ") for h in headings(page)):
                missing.append(f"{path.relative_to(ROOT)}: docs/{page}.md §{number}")
    assert not missing, "citations of docs/ that name no heading:\n" + "\n".join(missing)
