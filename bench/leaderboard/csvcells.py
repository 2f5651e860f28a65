"""CSV cells a spreadsheet cannot run: the OWASP rule against formula injection.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0``). Names come from
plugins and users, so every CSV bench writes guards its text cells:

- boards (``--format csv``, never read back) prefix such a cell with ``'``, unless it is a
  number (``-3.1``);
- files bench reads back (score records, predictions) escape reversibly: a cell starting with
  a trigger or with ``'`` gets one ``'`` more, which the reader takes off.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def formula_leading(text: str) -> bool:
    """Whether a spreadsheet would run this cell as a formula."""
    return str(text).startswith(FORMULA_TRIGGERS)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise(text: str) -> str:
    """A board's text cell, safe in a spreadsheet (numbers such as ``-3.1`` stay numbers)."""
    text = str(text)
    return QUOTE + text if formula_leading(text) and not _is_number(text) else text


def escape(text: str) -> str:
    """A text cell of a file bench reads back: safe, and ``unescape`` restores it exactly."""
    text = str(text)
    return QUOTE + text if formula_leading(text) or text.startswith(QUOTE) else text


def unescape(text: str) -> str:
    return text[1:] if text.startswith(QUOTE) else text
