"""docs/architecture.md names only paths that exist, and every package under portal/ is named."""

import re

from portal.settings import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()


def test_every_path_in_the_layout_table_exists():
    paths = re.findall(r"^\| `([^`]+)` \|", DOC, flags=re.M)
    assert paths, "layout table not found"
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, missing


def test_every_portal_package_is_documented():
    packages = sorted(p.name for p in (ROOT / "portal").iterdir()
                      if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "translations")
    undocumented = [p for p in packages if f"`portal/{p}/`" not in DOC]
    assert not undocumented, undocumented
