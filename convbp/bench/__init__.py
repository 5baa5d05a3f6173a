"""Benchmarks of convbp against NumPy and PyTorch CPU (``python -m convbp bench``)."""
