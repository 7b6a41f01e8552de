import os

# SAM2 draws a tqdm bar per propagation; vidmatte shows its own progress.
os.environ.setdefault("TQDM_DISABLE", "1")
