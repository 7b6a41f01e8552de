"""Closed-form matting's energy solved matrix-free in torch, on whatever device the image is on.

The matting Laplacian L (Levin et al., 2008) makes alpha locally a linear function of the
colour. Its product with a vector p needs no matrix (He, Sun & Tang, CVPR 2010, "Fast Matting
Using Large Kernel Matting Laplacian Matrices"): per window k, the linear model of p in the
colour, a_k = Δ_k⁻¹ cov_k(I, p) and b_k = mean_k(p) - a_k·μ_k, then

    (L p)_i = n_i p_i - (Σ_{k∋i} a_k)·I_i - Σ_{k∋i} b_k

with n_i the number of windows holding pixel i and Δ_k the window's colour covariance plus
eps/|w|. Every sum is a box filter, so a product costs O(N) whatever the radius, and Δ_k⁻¹ is
computed once per image. Windows are those wholly inside the image, as in pymatting's
`cf_laplacian`, so with the same eps and radius this is the same matrix.

Only the unknown pixels move, so everything runs on the square tiles that hold one (plus a
halo of 2·radius, the reach of one product): the cost follows the object's edge, not the
frame, and the box sums stay short (exact in float32).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .filters import window_mean, window_sum

TILE = 32  # tile side in pixels: smaller fits the band tighter, larger wastes less on halos


PAIRS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))  # a symmetric 3x3's distinct entries


def symmetric_inverse_entries(
    entries: list[torch.Tensor], scale: torch.Tensor | float = 1.0
) -> torch.Tensor:
    """Per-pixel inverses of symmetric 3x3 matrices given by their `PAIRS` entries, each
    (B,1,H,W), by cofactors, as their own `PAIRS` entries: (B,6,H,W), times `scale`
    ((B,1,H,W) or a number). Elementwise arithmetic, far cheaper on the CPU than a batched
    LU."""
    s00, s01, s02, s11, s12, s22 = entries
    c00, c01, c02 = s11 * s22 - s12 * s12, s02 * s12 - s01 * s22, s01 * s12 - s02 * s11
    c11, c12, c22 = s00 * s22 - s02 * s02, s01 * s02 - s00 * s12, s00 * s11 - s01 * s01
    det = s00 * c00 + s01 * c01 + s02 * c02
    return torch.cat([c00, c01, c02, c11, c12, c22], 1) * (scale / det)


# Row (and column) i of a symmetric 3x3 matrix as indices into its `PAIRS` entries.
ROWS = ((0, 1, 2), (1, 3, 4), (2, 4, 5))


def symmetric_matrix(entries: torch.Tensor) -> torch.Tensor:
    """(B,6,H,W) `PAIRS` entries of symmetric 3x3 matrices -> the matrices, (B,3,3,H,W). Joined
    from views, not indexed by a list: a list index is a host-to-device copy on a GPU."""
    entry = entries.unbind(1)
    return torch.stack([entry[i] for row in ROWS for i in row], 1).unflatten(1, (3, 3))


def symmetric_inverse(entries: list[torch.Tensor]) -> torch.Tensor:
    """`symmetric_inverse_entries` as whole matrices, (B,3,3,H,W)."""
    return symmetric_matrix(symmetric_inverse_entries(entries))


def colour_dot(x: torch.Tensor, y: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Dot products of colours, x and y broadcast together, along their `dim` of 3 (kept, of
    size 1): one product and two fused multiply-adds. On the CPU a product over all three
    and a sum along `dim` took twice as long."""
    out = x.narrow(dim, 0, 1) * y.narrow(dim, 0, 1)
    out.addcmul_(x.narrow(dim, 1, 1), y.narrow(dim, 1, 1))
    return out.addcmul_(x.narrow(dim, 2, 1), y.narrow(dim, 2, 1))


class TiledLaplacian:
    """L of `image` (1,3,H,W) in [0,1] with windows of `radius`, regularised by `eps`
    (pymatting's epsilon: added to the window's colour scatter before dividing by its size),
    on the tiles holding an `unknown` pixel (bool (1,1,H,W)).

    Vectors live on the tiles' interiors, shape (n,1,TILE,TILE); `gather` and `scatter` move
    full-frame images in and out."""

    def __init__(
        self, image: torch.Tensor, unknown: torch.Tensor, radius: int = 1, eps: float = 1e-7
    ) -> None:
        self.radius, self.halo = radius, 2 * radius
        self.shape = tuple(image.shape[-2:])
        height, width = self.shape
        g, t = self.halo, TILE
        rows, cols = -(-height // t), -(-width // t)
        self._pad = (g, cols * t - width + g, g, rows * t - height + g)
        self._padded_width = cols * t + 2 * g
        self._padded_size = (rows * t + 2 * g) * self._padded_width
        grid = F.pad(unknown[0, 0], self._pad[:2] + self._pad[2:])[g:-g, g:-g]
        has = grid.reshape(rows, t, cols, t).any(3).any(1)
        ty, tx = torch.nonzero(has, as_tuple=True)
        span = torch.arange(t + 2 * g, device=image.device)
        ys = (ty * t)[:, None] + span  # padded coordinates of each patch's rows / columns
        xs = (tx * t)[:, None] + span
        index = ys[:, :, None] * self._padded_width + xs[:, None, :]  # (n,P,P) flat
        # Indices kept flat, for index_select: on the CPU four times faster than indexing
        # with an (n,P,P) tensor, the same values.
        self._patch, self._inner = index.flatten(), index[:, g:-g, g:-g].flatten()
        # Each patch pixel's place among the tile interiors' pixels (n·T·T of them, then one
        # zero), so a product gathers its halos straight from the vector, without a frame.
        place = torch.full((self._padded_size,), len(self._inner), device=image.device)
        place[self._inner] = torch.arange(len(self._inner), device=image.device)
        self._halo_index = place[self._patch]

        n = (2 * radius + 1) ** 2
        # Windows wholly inside the image (centres at least `radius` from its border).
        valid = torch.zeros(height, width, device=image.device, dtype=torch.float64)
        valid[radius : height - radius, radius : width - radius] = 1
        valid = self.gather(valid[None, None])[:, :, radius:-radius, radius:-radius]
        # Per-frame statistics in float64 (E[IIᵀ] - μμᵀ cancels in float32 on flat windows,
        # whose inverse covariance reaches n/eps); the products run in float32. Colours are
        # centred on the frame's mean: the same L, less cancellation.
        colour = image.double()
        colour = colour - colour.mean((-2, -1), keepdim=True)
        patch = self.gather(colour)  # (n,3,P,P)
        mu = window_mean(patch, radius)
        # Each entry from its own product's window means: joining the six first cost a copy.
        cov = [
            window_mean(patch[:, i : i + 1] * patch[:, j : j + 1], radius)
            - mu[:, i : i + 1] * mu[:, j : j + 1]
            + (eps / n if i == j else 0)
            for i, j in PAIRS
        ]
        # Δ⁻¹ by its 6 distinct entries (0 off the image): a symmetric matrix's other 3 are
        # spread and multiplied for nothing.
        entries = symmetric_inverse_entries(cov, valid)
        # Δ⁻¹μ row by row from the entries: the (n,3,3,h,w) matrices in float64 cost more.
        inv_mu = torch.cat(
            [
                sum(entries[:, m : m + 1] * mu[:, j : j + 1] for j, m in enumerate(row))
                for row in ROWS
            ],
            1,
        )
        centre = patch[:, :, g:-g, g:-g]
        count = self._spread(valid)
        # Diagonal: Σ_k 1 - (1 + (I_i-μ_k)ᵀ Δ_k⁻¹ (I_i-μ_k)) / n, expanded into box sums.
        # Each entry off the diagonal stands for two of the matrix's.
        products = [centre[:, i] * centre[:, j] for i, j in PAIRS]
        products = [p if i == j else 2 * p for p, (i, j) in zip(products, PAIRS, strict=True)]
        quad = (self._spread(entries) * torch.stack(products, 1)).sum(1)
        cross = (self._spread(inv_mu) * centre).sum(1)
        mu_inv_mu = self._spread((inv_mu * mu).sum(1, keepdim=True))[:, 0]
        diag = count[:, 0] * (1 - 1 / n) - (quad - 2 * cross + mu_inv_mu) / n
        f32 = torch.float32
        self._patch_colour = patch.to(f32)
        self._colour = centre.to(f32)
        self._mu = mu.to(f32)
        entry = entries.to(f32).unbind(1)  # Δ⁻¹'s columns (its rows: it is symmetric)
        self._inv_columns = [torch.stack([entry[m] for m in row], 1) for row in ROWS]
        self._valid = valid.to(f32)
        self._count = count.to(f32)
        self.diagonal = diag[:, None].to(f32)  # (n,1,T,T)

    def _spread(self, per_window: torch.Tensor) -> torch.Tensor:
        """Per pixel of the tile interiors, the sum of a per-window value over the windows
        holding it (the adjoint of a window sum)."""
        return window_sum(per_window, self.radius)

    def _select(self, frame: torch.Tensor, index: torch.Tensor, side: int) -> torch.Tensor:
        """(1,C,H,W) at the padded frame's pixels `index`, n squares of `side` flattened:
        (n,C,side,side)."""
        flat = F.pad(frame, self._pad).flatten(-2)[0]  # (C, padded pixels)
        return flat.index_select(1, index).view(len(flat), -1, side, side).transpose(0, 1)

    def gather(self, frame: torch.Tensor) -> torch.Tensor:
        """(1,C,H,W) -> the tiles with their halos, (n,C,P,P); zero outside the frame."""
        return self._select(frame, self._patch, TILE + 2 * self.halo)

    def inside(self, frame: torch.Tensor) -> torch.Tensor:
        """(1,C,H,W) -> the tiles' interiors, (n,C,T,T)."""
        return self._select(frame, self._inner, TILE)

    def scatter(self, tiles: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """`frame` (1,C,H,W) with the tiles' interiors (n,C,T,T) written over it."""
        g = self.halo
        flat = F.pad(frame, self._pad).flatten(-2)[0].clone()
        flat.index_copy_(1, self._inner, tiles.transpose(0, 1).flatten(1))
        padded = flat.reshape(frame.shape[1], -1, self._padded_width)
        return padded[None, :, g : g + self.shape[0], g : g + self.shape[1]]

    def _apply(self, patch: torch.Tensor) -> torch.Tensor:
        """L p on the tile interiors from p on the tiles with halos (n,1,P,P)."""
        r, g = self.radius, self.halo
        mean_p = window_mean(patch, r)
        mean_ip = window_mean(self._patch_colour * patch, r)
        cov_ip = torch.addcmul(mean_ip, self._mu, mean_p, value=-1)
        # Δ⁻¹ cov per window (0 off the image) and the bias, written into one tensor for the
        # spread; 3x3 products written out: on the CPU far faster than a broadcast product
        # and a reduction.
        inv = self._inv_columns
        model = patch.new_empty(len(patch), 4, *mean_p.shape[-2:])
        a, bias = model[:, :3], model[:, 3:]
        torch.mul(inv[0], cov_ip[:, :1], out=a)
        a.addcmul_(inv[1], cov_ip[:, 1:2]).addcmul_(inv[2], cov_ip[:, 2:])
        torch.mul(mean_p - colour_dot(a, self._mu), self._valid, out=bias)
        spread = self._spread(model)
        inner = patch[..., g:-g, g:-g]
        return self._count * inner - colour_dot(spread[:, :3], self._colour) - spread[:, 3:]

    def __matmul__(self, p: torch.Tensor) -> torch.Tensor:
        """L p on the tile interiors, for p a full frame (1,1,H,W)."""
        return self._apply(self.gather(p))

    def apply_tiles(self, tiles: torch.Tensor) -> torch.Tensor:
        """L p for p given on the tile interiors (n,1,T,T) and zero elsewhere."""
        flat = torch.cat([tiles.flatten(), tiles.new_zeros(1)])
        side = TILE + 2 * self.halo
        return self._apply(flat.index_select(0, self._halo_index).view(-1, 1, side, side))


def solve(
    image: torch.Tensor,
    alpha: torch.Tensor,
    unknown: torch.Tensor,
    prior: torch.Tensor,
    weight: torch.Tensor,
    radius: int = 1,
    eps: float = 1e-7,
    iterations: int = 30,
) -> torch.Tensor:
    """Minimise aᵀLa + Σ weight·(a - prior)² over the `unknown` pixels (bool (1,1,H,W)), the
    others fixed at `alpha`, by Jacobi-preconditioned conjugate gradients started from `alpha`
    (`iterations` steps). image (1,3,H,W) in [0,1]; alpha, prior, weight (1,1,H,W) float32."""
    if not bool(unknown.any()):
        return alpha
    lap = TiledLaplacian(image, unknown, radius, eps)
    u = lap.inside(unknown.to(torch.float32))
    w = lap.inside(weight) * u
    # (L_UU + W) x = W prior - L_UK a_K, x living on the unknown pixels (zero elsewhere). The
    # start's residual in one product: L_UK a_K + L_UU x is L of the whole frame `alpha`.
    x = lap.inside(alpha) * u
    res = u * (w * (lap.inside(prior) - x) - lap @ alpha)

    def system(v: torch.Tensor) -> torch.Tensor:
        return u * lap.apply_tiles(v) + w * v

    precond = u / (lap.diagonal + w).clamp_min(1e-6)
    z = precond * res
    direction = z
    rz = (res * z).sum()
    tiny = torch.finfo(torch.float32).tiny
    for _ in range(iterations):
        ad = system(direction)
        step = rz / (direction * ad).sum().clamp_min(tiny)
        x = x + step * direction
        res = res - step * ad
        z = precond * res
        rz_next = (res * z).sum()
        direction = z + (rz_next / rz.clamp_min(tiny)) * direction
        rz = rz_next
    return torch.where(unknown, lap.scatter(x, alpha), alpha)
