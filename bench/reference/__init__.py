"""Published reference figures shipped as package data (see README.md here)."""
