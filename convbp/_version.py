"""The single source of convbp's version (read by the build, see pyproject.toml)."""

__version__ = "0.1.0"
