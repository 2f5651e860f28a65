"""The shift suite: perturbations (one row each), versioned suite files and shifted test sets.

- :mod:`bench.shifts.perturbations`: the table of perturbations; :func:`perturb` applies one;
- :mod:`bench.shifts.suite`: a suite file (``v2.toml``, the default; ``v1.toml`` for old
  boards), its parameters per severity and hash;
- :mod:`bench.shifts.target_names`: target names, ``NAME~SHIFT:SEVERITY``;
- :mod:`bench.shifts.dataset`: a shifted test set and its cache (imports the data layer);
- :mod:`bench.shifts.preview`: one image under a shift, or the grid of every shift and severity.
"""

from __future__ import annotations

from bench.shifts.perturbations import PERTURBATIONS, Perturbation, perturb
from bench.shifts.suite import SEVERITIES, ShiftSuite, load_suite

__all__ = ["PERTURBATIONS", "SEVERITIES", "Perturbation", "ShiftSuite", "load_suite", "perturb"]
