"""Renderers of boards: Markdown, LaTeX, HTML, CSV and JSON files, and the terminal."""
