"""soilbench inside ILAMB 2.x: confrontation types for ``ilamb-run`` and ILAMB_ROOT preparation.

ILAMB 2.x resolves a cfg ``ctype`` it does not ship with ``__import__(ctype).__dict__[ctype]``,
so each type is a top-level module named like its class (``ConfSoilbenchRh.py`` …, installed
with soilbench) that re-exports a class from :mod:`soilbench.ilamb.confrontation`. Those classes
run soilbench's own confrontations and write the scores where ILAMB's scoreboard reads them
(:mod:`soilbench.ilamb.results`), with soilbench's figures on ILAMB's dataset pages
(:mod:`soilbench.ilamb.figures`). See ``docs/ilamb.md``.

Importing this package does not import ILAMB (which imports mpi4py); the submodules that need it
import it themselves.
"""
