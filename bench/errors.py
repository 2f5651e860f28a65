"""Errors a user can act on: the CLI prints the message, exits non-zero, shows no traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BenchError(Exception):
    """Base class: the message alone tells the user what happened and what to do."""

    exit_code = 1


class UnknownNameError(BenchError, LookupError):
    """A data set, model, generator, protocol or metric name that nothing registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str], notes: Iterable[str] = ()):
        known = sorted(set(known))
        close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=3, cutoff=0.5)
        message = f"unknown {kind} {name!r}."
        if close:
            message += f" Did you mean: {', '.join(close)}?"
        message += f" Known {kind}s: {', '.join(known) or '(none registered)'}."
        if notes := list(notes):  # e.g. the plugins that failed: one of them may provide it
            message += (" Not loaded, and perhaps providing it: " + "; ".join(notes)
                        + " (see `bench plugins`).")
        super().__init__(message)
        self.kind, self.name, self.known, self.suggestions = kind, name, known, close


class DuplicateNameError(BenchError):
    """Two plugins registered the same name or alias."""


class PluginError(BenchError):
    """A plugin broke its contract (wrong return type, bad spec)."""


class ProtocolError(BenchError):
    """A protocol file is malformed; the message names the file and the field."""


class DataError(BenchError):
    """Input data is missing, malformed or not prepared; the message says how to fix it."""


class RunError(BenchError):
    """A training or evaluation run cannot start or cannot go on."""


class OptionError(BenchError):
    """An option's value cannot work (zero epochs, a folder given as a file); exit code 2.

    The message starts with the option and its value, as click's usage errors do.
    """

    exit_code = 2
