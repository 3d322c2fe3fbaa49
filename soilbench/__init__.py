"""soilbench: ILAMB-style benchmarking of the soil carbon cycle."""

__version__ = "0.1.0"
