"""The colour a 4:2:0 or 4:2:2 video's decoding left blocky, restored from its luma.

Nearly every camera and editor stores video with one colour (chroma) sample per 2x2 pixels
(4:2:0) or per 2x1 (4:2:2), only brightness (luma) at every pixel. FFmpeg's conversion to RGB
(`media/video.py`) repeats each chroma sample over its block, so a hair one pixel wide takes
the colour of its block: the blend of hair and background that matting reads from each pixel
is wrong where it matters most. Through a matte's edges the colour is a blend of two colours,
and chroma follows luma along the line between them (the colour-line model the matting
Laplacian rests on): per chroma sample, chroma is fitted as a linear function of luma over
the samples around it, and each pixel gets its block's chroma, bilinearly spread, plus that
slope times how far its own luma is from its block's. Flat regions keep the bilinear chroma.

Chroma is taken as each channel's difference from luma. Any luma weights that sum to 1 give
the same result for blocks whose chroma is one sample: whatever YCbCr matrix decoded them,
such a block's RGB varies only along grey, which moves luma by as much and leaves the
differences constant. So the matrix the video was decoded with need not be known.

The settings were chosen on the training-side sets through H.264 (`ship build`'s
W/holdout_h264 and W/tune_h264, MAD with the plate; docs/MATTING.md "Colour restored from
luma"), never on the validation clips.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

from .filters import enlarged, window_mean

# Rec. 709 luma; see the module docstring for why any weights summing to 1 would do.
_LUMA = (0.2126, 0.7152, 0.0722)
# The chroma samples each slope is fitted over: (2r+1)² around the pixel's own.
RADIUS = 1
# The luma variance (0..1 scale) a slope needs to be trusted: below it the slope shrinks to 0
# (a flat block keeps the bilinear chroma; 8-bit rounding does not make a slope).
EPS = 1e-4

Blocks = tuple[int, int]  # (rows, columns) of pixels that share one chroma sample


@lru_cache
def _weights(device: torch.device) -> torch.Tensor:
    """(2,3) on `device`, made once (not a host-to-device copy a frame): the weights of
    luma (`_LUMA`) and of green given red, blue and luma, less luma's share (`restored`)."""
    red, green, blue = _LUMA
    return torch.tensor([_LUMA, (-red / green, 0.0, -blue / green)], device=device)


def _weighted(image: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(1,1,h,w): `image`'s (1,3,h,w) channels summed with `weights` (3,), as a product over
    the channels. Not a 1x1 convolution: on the CPU with more than one thread, torch gives
    that to oneDNN, which took 110 ms for a 1080p frame against this 2 ms."""
    return torch.matmul(weights, image.flatten(2)).view(1, 1, *image.shape[-2:])


def restored(pixels: torch.Tensor, blocks: Blocks) -> torch.Tensor:
    """`pixels` uint8 or uint16 (H,W,3), decoded from video whose chroma has one sample per
    `blocks` pixels (repeated over each block, as FFmpeg's conversion does), with luma-guided
    chroma: the same type and shape on the same device. (1, 1) (4:4:4, RGB, grey) returns
    `pixels` as they are.

    Per chroma sample, the slope of chroma against luma over the samples around it; each
    pixel's colour is its luma, plus its block's chroma spread bilinearly, plus the slope
    (spread too) times how far its luma is from its block's (spread too). The slope's error
    then counts only as far as a pixel differs from its block: fitting chroma as slope·luma
    plus an offset, each spread (the guided filter's form), was further off at soft pixels
    (2.33 levels against 1.43 on a frame of W/holdout). Runs on the code values."""
    if tuple(blocks) == (1, 1):
        return pixels
    height, width = pixels.shape[:2]
    top = 255.0 if pixels.dtype == torch.uint8 else 65535.0
    # Planar float (the pooling and the filters run faster on it than on the decoded
    # channels-last layout), and later the restored colour, written over it.
    image = torch.empty((1, 3, height, width), device=pixels.device)
    image[0].copy_(pixels.permute(2, 0, 1))
    weights, green = _weights(image.device)
    luma = _weighted(image, weights)
    # One value per chroma sample: its block's mean colour, whose luma is its block's mean
    # luma (luma is linear) and whose difference from that is the sample's chroma. Red's and
    # blue's: green's follows (see below).
    small = F.avg_pool2d(image, blocks, ceil_mode=True)
    y = _weighted(small, weights)
    c = small[:, ::2] - y
    # Edges repeated, not mirrored: a frame two pixels high has one row of samples.
    stack = F.pad(torch.cat([y, c, y * y, y * c], 1), (RADIUS,) * 4, mode="replicate")
    means = window_mean(stack, RADIUS)
    mean_y, mean_c, mean_yy, mean_yc = means.split([1, 2, 1, 2], 1)
    slope = (mean_yc - mean_y * mean_c) / (mean_yy - mean_y * mean_y + EPS * top**2)
    grid = tuple(n * k for n, k in zip(small.shape[-2:], blocks, strict=True))
    spread = enlarged(torch.cat([y, c, slope], 1), grid)[..., :height, :width]
    block_y, block_c, slope = spread.split([1, 2, 2], 1)
    image[:, ::2] = torch.addcmul(block_c.add_(luma), slope, luma - block_y)
    # Green as the value that keeps the pixel's luma: the same as restoring it like red and
    # blue (the luma weights sum to 1, so chroma's and the slopes' weighted sums are 0, and
    # the spreading is linear), for two-thirds of the spreading, the costliest step.
    image[:, 1:2] = torch.add(_weighted(image, green), luma, alpha=1 / _LUMA[1])
    out = torch.empty_like(pixels)
    return out.copy_(image[0].clamp_(0, top).round_().permute(1, 2, 0))
