"""Nightshift: the functional core, AWS adapters, policy model and report model shared by every
function. Packed as one Lambda layer by `sam build`."""

__all__ = ["__version__"]

__version__ = "0.1.0"
