"""A static leaderboard site: boards, model pages and cell pages that open from ``file://``.

    inputs = load_inputs(records=["leaderboards/"])     # or the results store
    build_site("site/", inputs, SiteSettings())           # every page, script and style
    verify_site("site/", inputs)                          # every shown number against the records

Pages are drawn with Jinja2 from the leaderboard's own boards (``bench.leaderboard``); charts are
inline SVG and the table sorter a few lines of plain JavaScript, so the folder needs no network,
no build step and no server.
"""

from __future__ import annotations

from bench.site.build import BuildResult, build_site
from bench.site.inputs import SiteInputs, SiteSettings, load_inputs
from bench.site.verify import Difference, verify_site

__all__ = ["BuildResult", "Difference", "SiteInputs", "SiteSettings", "build_site",
           "load_inputs", "verify_site"]
