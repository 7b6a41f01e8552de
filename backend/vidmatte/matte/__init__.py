"""Matting head, its weights, and full-resolution inference."""

from .head import HeadConfig, MattingHead
from .infer import Matter
from .weights import default_head_path, load_head, random_head, save_head

__all__ = [
    "HeadConfig",
    "Matter",
    "MattingHead",
    "default_head_path",
    "load_head",
    "random_head",
    "save_head",
]
