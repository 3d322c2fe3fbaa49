"""Pure analysis functions on canonical datasets and tables (no file access, no plotting)."""
