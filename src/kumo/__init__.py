"""kumo: a local AWS compute cloud."""

__version__ = "0.1.0"
