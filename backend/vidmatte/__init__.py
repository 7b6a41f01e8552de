"""vidmatte: interactive video matting with SAM2 and a matting head."""

import os
from importlib.metadata import version

# SAM2 draws a tqdm bar per propagation; vidmatte shows its own progress. tqdm reads this when
# it is first imported, so it is set before anything imports it.
os.environ.setdefault("TQDM_DISABLE", "1")

__version__ = version("vidmatte")  # pyproject.toml's, the one place it is written
