"""vidmatte: interactive video matting with SAM2 and a matting head."""
