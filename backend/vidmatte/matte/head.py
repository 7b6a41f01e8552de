"""The matting head: a small UNet that corrects SAM2's soft mask into an alpha matte.

It predicts a residual on sigmoid(mask_logits) rather than alpha from scratch: the mask is
already right almost everywhere, so the network only has to learn the boundary band, which
is what a ~1.5 M-parameter model trained on few foregrounds can still generalise.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .filters import dilate, enlarged, halved, padded_box_means


@dataclass(frozen=True)
class HeadConfig:
    """Architecture and input settings; stored in the weights card so a file rebuilds itself."""

    base_channels: int = 16
    # Channels per encoder level (strides 2, 4, 8, 16), x base_channels.
    # Three levels (receptive field ~100 px): with few training objects a deeper, wider head
    # memorised their appearance (training MAD halved, unseen objects not helped at all).
    channel_mults: tuple[int, ...] = (2, 4, 8)
    working_size: int = 640  # long side, in pixels, the head runs at
    # The head may change alpha only within this many working-resolution pixels of the mask's
    # uncertain edge; elsewhere alpha is the mask's side, 0 or 1. Without the gate an unseen
    # object's colours made the head eat into confident interiors. 0 disables it.
    band_radius: int = 16
    # Feed the head local foreground / background colour estimates and the alpha they imply
    # (see `colour_prior`): compositing physics that holds for objects never seen in training.
    colour_prior: bool = True
    use_sam_features: bool = False  # feed SAM2's feat_s0 / feat_s1 (needs a real checkpoint)
    feat_s0_channels: int = 32
    feat_s1_channels: int = 64

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> HeadConfig:
        data = dict(data)
        data["channel_mults"] = tuple(data.get("channel_mults", cls.channel_mults))
        return cls(**data)

    @property
    def stride(self) -> int:
        """Input sizes must be multiples of this (one halving per encoder level)."""
        return 2 ** len(self.channel_mults)


def _conv_block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class _Down(nn.Module):
    """Strided conv then a plain conv: halves the resolution."""

    def __init__(self, cin: int, cout: int, dilation: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv_block(cin, cout, stride=2), _conv_block(cout, cout, dilation=dilation)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class _Up(nn.Module):
    """Bilinear upsampling, concatenation with the skip, two convs."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_block(cin + cskip, cout), _conv_block(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body[1](_block_of_concat(self.body[0], [x, skip]))


def _block_of_concat(block: nn.Sequential, parts: list[torch.Tensor]) -> torch.Tensor:
    """`block` (a convolution, then what follows it) applied to the channels of `parts`
    joined, without joining them: the convolution is the sum of its weights' slices applied
    to each part. Joining channels-last maps interleaves every pixel's channels; on the
    CPU that copy cost as much as the convolution after it (the head's last layer: 36 ms
    joined, 19 split, at 640x368). The same weights and parameters as one convolution."""
    conv, start, out = block[0], 0, None
    for part in parts:
        stop = start + part.shape[1]
        bias = conv.bias if out is None else None
        y = F.conv2d(
            part, conv.weight[:, start:stop], bias, conv.stride, conv.padding, conv.dilation
        )
        out, start = (y if out is None else out.add_(y)), stop
    return block[1:](out)


class MattingHead(nn.Module):
    """rgb + SAM2 mask logits (+ previous alpha) -> alpha, all at working resolution."""

    def __init__(self, config: HeadConfig | None = None) -> None:
        super().__init__()
        self.config = config or HeadConfig()
        c = self.config.base_channels
        widths = [c * m for m in self.config.channel_mults]
        # Inputs: rgb (3), soft mask (1), previous alpha (1) and, with the colour prior,
        # its foreground and background colours (3+3), implied alpha and contrast (1+1).
        # No full-resolution stem: the full-resolution work is only the final refinement,
        # which keeps the head cheap.
        n_in = 5 + (COLOUR_PRIOR_CHANNELS if self.config.colour_prior else 0)
        self.downs = nn.ModuleList()
        cin = n_in
        for i, w in enumerate(widths):
            # Dilate the deepest level: cheap extra context for large blurry regions.
            self.downs.append(_Down(cin, w, dilation=2 if i == len(widths) - 1 else 1))
            cin = w
        self.ups = nn.ModuleList()
        for skip_c in reversed(widths[:-1]):
            self.ups.append(_Up(cin, skip_c, skip_c))
            cin = skip_c
        # The last layer sees the raw inputs again so fine edges come from full-res colour.
        self.out = nn.Sequential(_conv_block(cin + n_in, c), nn.Conv2d(c, 1, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)  # start as the identity: alpha = soft mask
        nn.init.zeros_(self.out[-1].bias)
        if self.config.use_sam_features:
            # Projected and added at strides 4 and 8 (SAM2's 256² and 128² maps).
            self.proj_s0 = nn.Conv2d(self.config.feat_s0_channels, widths[1], 1)
            self.proj_s1 = nn.Conv2d(self.config.feat_s1_channels, widths[2], 1)

    def forward(
        self,
        rgb: torch.Tensor,
        mask_logits: torch.Tensor,
        prev_alpha: torch.Tensor | None = None,
        feat_s0: torch.Tensor | None = None,
        feat_s1: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return alpha (B,1,h,w) in [0,1]; h and w must be multiples of `config.stride`."""
        soft = torch.sigmoid(mask_logits.float()).to(rgb.dtype)
        prev = soft if prev_alpha is None else prev_alpha.to(rgb.dtype)
        inputs = [rgb, soft, prev]
        if self.config.colour_prior:
            inputs.append(colour_prior(rgb, soft))
        x = torch.cat(inputs, dim=1)
        # Channels-last: oneDNN's convolutions (CPU) and tensor cores (CUDA) run fastest on
        # it; the head's own CPU time falls by a quarter.
        x = x.contiguous(memory_format=torch.channels_last)
        feats, h = [], x
        for level, down in enumerate(self.downs):
            h = down(h)
            if self.config.use_sam_features:
                h = self._add_sam_feature(h, level, feat_s0, feat_s1)
            feats.append(h)
        for up, skip in zip(self.ups, reversed(feats[:-1]), strict=True):
            h = up(h, skip)
        h = F.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
        delta = self.out[1](_block_of_concat(self.out[0], [h, x]))
        alpha = (soft + delta).clamp(0.0, 1.0)
        if self.config.band_radius > 0:
            # Beyond the band the mask is sure (0.02 < soft < 0.98 nowhere near): alpha is its
            # side, exactly. SAM2's logits often sit at ±4..6, and their sigmoid (0.98..0.998)
            # left a faint haze over the frame and opened the edge refinement's gate
            # (refine.Gate) over whole interiors and backgrounds: on the training images as
            # clips that doubled the refined MAD (2.91 -> 5.82).
            hard = (soft > 0.5).to(alpha.dtype)
            alpha = torch.where(boundary_band(soft, self.config.band_radius), alpha, hard)
        return alpha

    def _add_sam_feature(
        self, h: torch.Tensor, level: int, s0: torch.Tensor | None, s1: torch.Tensor | None
    ) -> torch.Tensor:
        """Add SAM2's high-res features at the stride-4 (level 1) and stride-8 (level 2) maps."""
        pairs = {1: (s0, getattr(self, "proj_s0", None)), 2: (s1, getattr(self, "proj_s1", None))}
        feat, proj = pairs.get(level, (None, None))
        if feat is None or proj is None:
            return h
        feat = F.interpolate(
            feat.to(h.dtype), size=h.shape[-2:], mode="bilinear", align_corners=False
        )
        return h + proj(feat)


COLOUR_PRIOR_CHANNELS = 8
# Box sizes for filling in colours, at half resolution (7..127 px at full): colours vary slowly,
# and half the resolution is half the prior's cost with the same validation MAD.
_FILL_SIZES = (3, 7, 15, 31, 63)


def _fill_colours(weighted: torch.Tensor) -> torch.Tensor:
    """Each pixel's mean colour over the nearest known pixels, from `weighted` = [rgb * known,
    known]: the finest box (of `_FILL_SIZES`) holding enough of them, else the image's mean."""
    total = weighted.sum((-2, -1), keepdim=True)
    out = (total[:, :-1] / total[:, -1:].clamp_min(1.0)).expand_as(weighted[:, :-1])
    means = padded_box_means(weighted, [k // 2 for k in _FILL_SIZES])
    for sums in reversed(means):  # coarse to fine: each finer estimate overwrites
        support = sums[:, -1:]
        mean = sums[:, :-1] / support.clamp_min(1e-6)
        out = torch.where(support > 0.05, mean, out)
    return out


def _fill_half_res(rgb: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """`_fill_colours` at half resolution, bilinearly upsampled."""
    weighted = halved(torch.cat([rgb * known, known], dim=1))
    filled = _fill_colours(weighted)
    return enlarged(filled, tuple(rgb.shape[-2:]))


@torch.no_grad()
def colour_prior(
    rgb: torch.Tensor, soft: torch.Tensor, inner: int = 4, outer: int = 8, eps: float = 1e-3
) -> torch.Tensor:
    """(B,8,h,w): foreground colour F, background colour B, the alpha that explains each pixel
    as a blend of the two, (I-B)·(F-B)/|F-B|², and the contrast |F-B|.

    F is filled in from the mask eroded by `inner` px, B from outside the mask dilated by
    `outer` px: what a compositor's colour-sampling key does. It generalises to any object
    because it is the compositing equation, not learned appearance; the head learns where to
    trust it (high contrast, smooth colours) and where not (F close to B, textured regions).
    """
    # float32 whatever the caller's autocast: box sums of fp16 colours lose the small weights.
    with torch.autocast(rgb.device.type, enabled=False):
        prior = _colour_prior(rgb.float(), soft.float(), inner, outer, eps)
    return prior.to(rgb.dtype)


def _colour_prior(
    rgb: torch.Tensor, soft: torch.Tensor, inner: int, outer: int, eps: float
) -> torch.Tensor:
    hard = soft > 0.5
    fg = (~dilate(~hard, inner)).float()
    bg = (~dilate(hard, outer)).float()
    # Both sides filled as one batch: half the operations (a GPU's launches), the same values.
    known = torch.cat([fg, bg])
    filled = _fill_half_res(rgb.repeat(2, 1, 1, 1), known)
    fg_colour, bg_colour = filled.chunk(2)
    diff = fg_colour - bg_colour
    contrast2 = (diff * diff).sum(1, keepdim=True)
    implied = (((rgb - bg_colour) * diff).sum(1, keepdim=True) / (contrast2 + eps)).clamp(0, 1)
    return torch.cat([fg_colour, bg_colour, implied, contrast2.sqrt()], dim=1)


def boundary_band(
    alpha: torch.Tensor, radius: int, lo: float = 0.02, hi: float = 0.98
) -> torch.Tensor:
    """Pixels within `radius` (square neighbourhood) of a pixel with lo < alpha < hi (bool)."""
    return dilate((alpha > lo) & (alpha < hi), radius)


def for_inference(head: MattingHead) -> MattingHead:
    """An eval-mode copy of `head` with each batch norm folded into the convolution before it:
    in eval mode a batch norm is a fixed affine map per channel, so the fold gives the same
    alpha (to float rounding) without a pass over every feature map. The caller's module,
    its weights and its mode are left as they were."""
    net = copy.deepcopy(head).eval()
    for block in net.modules():
        if (
            isinstance(block, nn.Sequential)
            and len(block) > 1
            and isinstance(block[0], nn.Conv2d)
            and isinstance(block[1], nn.BatchNorm2d)
        ):
            block[0] = nn.utils.fuse_conv_bn_eval(block[0], block[1])
            block[1] = nn.Identity()
    return net


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
