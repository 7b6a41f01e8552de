"""vidmatte: interactive video matting with SAM2 and a matting head."""

__version__ = "0.1.0"
