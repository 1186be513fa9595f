"""facekyc: open, self-hosted face-verified SIM registration."""

__version__ = "0.1.0"
