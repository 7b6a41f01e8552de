"""The background plate on synthetic clips whose background and alpha are known exactly: a
textured world seen by a camera that pans, turns and zooms, and an opaque disc moving over it."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vidmatte.matte import plate as plate_module
from vidmatte.matte.plate import (
    BackgroundPlate,
    PlateSettings,
    masked_median,
    pixel_grid,
    sorting_network,
    warp,
)

SIZE = (96, 160)  # (h, w) of the frames
DISC = torch.tensor([0.9, 0.2, 0.3]).view(3, 1, 1)


def texture(size: tuple[int, int], seed: int) -> torch.Tensor:
    """(1,3,h,w): smooth noise at several scales, the finest a few pixels across."""
    g = torch.Generator().manual_seed(seed)
    out = torch.zeros(1, 3, *size)
    for cell in (3, 6, 12, 32):
        noise = torch.rand(1, 3, size[0] // cell + 2, size[1] // cell + 2, generator=g)
        out += F.interpolate(noise, size=size, mode="bicubic", align_corners=False) / 4
    return out.clamp(0, 1)


def normaliser(size: tuple[int, int]) -> torch.Tensor:
    """Pixel coordinates (centres at i + 0.5) -> grid_sample's normalised ones."""
    h, w = size
    return torch.tensor([[2 / w, 0, -1], [0, 2 / h, -1], [0, 0, 1.0]])


def camera(dx: float, dy: float, degrees: float, zoom: float) -> torch.Tensor:
    """Frame pixel -> world pixel (the world twice the frame's size, the frame at its centre
    before the motion): a shift, a turn and a zoom about the frame's centre."""
    h, w = SIZE
    a = math.radians(degrees)
    c, s = math.cos(a) / zoom, math.sin(a) / zoom
    centre = torch.tensor([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    turn = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    to_world = torch.tensor([[1, 0, w + dx], [0, 1, h + dy], [0, 0, 1.0]])
    return to_world @ turn @ centre


def disc_alpha(cx: float, cy: float, radius: float) -> torch.Tensor:
    """(1,h,w): an opaque disc with a one-pixel soft rim."""
    h, w = SIZE
    yy, xx = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    return (radius - torch.hypot(xx - cx, yy - cy)).clamp(0, 1)[None]


def view(world: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """The frame (3,h,w) a camera sees of the world (1,3,2h,2w)."""
    h, w = SIZE
    homography = normaliser((2 * h, 2 * w)) @ cam @ torch.linalg.inv(normaliser(SIZE))
    return warp(world, homography[None], pixel_grid(SIZE, world.device))[0][0].unflatten(-1, SIZE)


def composite(background: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return alpha * DISC + (1 - alpha) * background


def moving_clip(
    frames: int, cameras: list[torch.Tensor], seed: int = 0
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """(rgb, alpha, true background) per frame: the disc crosses the frame left to right."""
    h, w = SIZE
    world = texture((2 * h, 2 * w), seed)
    rgb, alphas, backgrounds = [], [], []
    for t in range(frames):
        background = view(world, cameras[t])
        alpha = disc_alpha(w * (0.25 + 0.06 * t), h * 0.5, h * 0.2)
        rgb.append(composite(background, alpha))
        alphas.append(alpha)
        backgrounds.append(background)
    return rgb, alphas, backgrounds


def mapping_error(estimate: torch.Tensor, truth_pixels: torch.Tensor) -> float:
    """Largest distance (pixels) between where `estimate` (normalised) and `truth_pixels`
    (pixel coordinates) send the frame's corners and centre."""
    h, w = SIZE
    n = normaliser(SIZE)
    est = torch.linalg.inv(n) @ estimate @ n
    points = torch.tensor([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1], [w / 2, h / 2, 1.0]]).T
    a, b = est @ points, truth_pixels @ points
    return float(((a[:2] / a[2:]) - (b[:2] / b[2:])).norm(dim=0).max())


# Levels from whose short side on Gauss-Newton's equations come from every other pixel: the
# default (which a 1080p frame's plate meets, these test frames' do not), and low enough that
# every level but the coarsest of these frames has them sparse.
SPARSE_LEVELS = pytest.mark.parametrize("sparse_level", [plate_module.SPARSE_LEVEL, 16])


@SPARSE_LEVELS
def test_plate_recovers_the_background_behind_the_object_under_camera_motion(
    sparse_level: int, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(plate_module, "SPARSE_LEVEL", sparse_level)
    cams = [camera(5.0 * t, -2.0 * t, 0.3 * t, 1 + 0.01 * t) for t in range(10)]
    rgb, alphas, truth = moving_clip(10, cams)
    plate = BackgroundPlate(SIZE, settings=PlateSettings(frames=9))  # frame 9 replaces frame 0
    for t in range(9):
        plate.feed(rgb[t], alphas[t])
        plate.plate(rgb[t], alphas[t])
        plate.add(rgb[t], alphas[t])
    plate.feed(rgb[9], alphas[9])
    background, known = plate.plate(rgb[9], alphas[9])
    behind = (alphas[9] > 0) & (known > 0)
    # The disc moved 6% of the width a frame: frames 1-8 saw all of what it covers now.
    assert behind.sum() >= 0.95 * (alphas[9] > 0).sum()
    error = (background - truth[9]).abs().mean(0, keepdim=True)[behind]
    assert float(error.mean()) < 2 / 255
    assert float(error.max()) < 12 / 255
    # The map to each stored frame matches the true camera motion to a tenth of a pixel.
    for t in range(1, 9):
        truth_map = torch.linalg.inv(cams[t]) @ cams[9]
        assert mapping_error(plate.registered[t], truth_map) < 0.1


@SPARSE_LEVELS
def test_frames_register_through_the_chain_of_frames_fed(
    sparse_level: int, monkeypatch: pytest.MonkeyPatch
):
    """Eight frames of a pan at 5 px a frame and a ninth: the oldest is 40 px away from it,
    and starts from the chain of frame-to-frame fits made as each was fed, not identity."""
    monkeypatch.setattr(plate_module, "SPARSE_LEVEL", sparse_level)
    cams = [camera(5.0 * t, -1.0 * t, 0.0, 1.0) for t in range(10)]
    rgb, alphas, _ = moving_clip(10, cams, seed=3)
    plate = BackgroundPlate(SIZE)
    for t in range(1, 9):
        matted(plate, rgb[t], alphas[t])
    plate.feed(rgb[9], alphas[9])
    plate.plate(rgb[9], alphas[9])
    for slot, t in enumerate(range(1, 9)):
        truth_map = torch.linalg.inv(cams[t]) @ cams[9]
        assert mapping_error(plate.registered[slot], truth_map) < 0.1


def test_a_pan_that_turns_back_is_registered():
    """Each frame's registration starts from the last frame's motion: where the camera turns
    back, that start is two steps' motion off, and the fit still finds the map."""
    xs = [0, 5, 10, 15, 20, 15, 10, 5, 0, -5]
    cams = [camera(float(x), 0.0, 0.0, 1.0) for x in xs]
    rgb, alphas, _ = moving_clip(10, cams, seed=4)
    plate = BackgroundPlate(SIZE, settings=PlateSettings(views=0))  # all 9 others registered
    for t in range(9):
        matted(plate, rgb[t], alphas[t])
    plate.feed(rgb[9], alphas[9])
    plate.plate(rgb[9], alphas[9])
    for t in range(9):
        truth_map = torch.linalg.inv(cams[t]) @ cams[9]
        assert mapping_error(plate.registered[t], truth_map) < 0.1


@pytest.mark.parametrize(
    "motion", [(6.0, -4.0, 0.0, 1.0), (3.0, 2.0, 1.5, 1.0), (-2.0, 3.0, 0.0, 1.04)]
)
def test_registration_from_identity_handles_shifts_turns_and_zooms(motion):
    """One stored frame, a jump of several pixels, a turn of 1.5 degrees or a 4% zoom, with no
    earlier estimate to start from."""
    cams = [camera(0, 0, 0, 1), camera(*motion)]
    rgb, alphas, _ = moving_clip(2, cams, seed=1)
    plate = BackgroundPlate(SIZE)
    matted(plate, rgb[0], alphas[0])
    plate.feed(rgb[1], alphas[1])
    plate.plate(rgb[1], alphas[1])
    truth_map = torch.linalg.inv(cams[0]) @ cams[1]
    assert mapping_error(plate.registered[0], truth_map) < 0.1


def test_known_is_zero_where_no_stored_frame_saw_the_background():
    """A still camera and a disc that moves 2 px a frame: what it covered in every stored
    frame was never seen; what at least two frames saw uncovered is known."""
    h, w = SIZE
    cam = camera(0, 0, 0, 1)
    world = texture((2 * h, 2 * w), 2)
    background = view(world, cam)
    alphas = [disc_alpha(50 + 2 * t, 48, 20) for t in range(6)]
    rgb = [composite(background, a) for a in alphas]
    plate = BackgroundPlate(SIZE)
    for t in range(5):
        matted(plate, rgb[t], alphas[t])
    plate.feed(rgb[5], alphas[5])
    out, known = plate.plate(rgb[5], alphas[5])
    never = torch.stack(alphas[:5]).amin(0) > 0
    assert never.sum() > 500
    assert known[never].sum() == 0
    assert out[:, never[0]].abs().sum() == 0
    # Uncovered in at least two stored frames, by more than the object margin.
    grown = [F.max_pool2d((a > 0).float()[None], 9, 1, 4)[0] for a in alphas[:5]]
    seen_twice = (torch.stack(grown) == 0).sum(0) >= 2
    assert float(known[seen_twice].mean()) > 0.99


def test_a_region_no_stored_frame_saw_is_unknown():
    """A disc that stays put over a still background: no stored frame ever saw behind it, so
    a plate asked for its inside alone knows nothing there (and warps no colour)."""
    background = view(texture((2 * SIZE[0], 2 * SIZE[1]), 4), camera(0, 0, 0, 1))
    alpha = disc_alpha(80, 48, 20)
    rgb = composite(background, alpha)
    plate = BackgroundPlate(SIZE)
    for _ in range(4):
        matted(plate, rgb, alpha)
    plate.feed(rgb, alpha)
    inside = disc_alpha(80, 48, 12) > 0.5
    out, known = plate.plate(rgb, alpha, region=inside)
    assert out.shape == (3, *SIZE) and known.shape == (1, *SIZE)
    assert out.abs().sum() == 0 and known.sum() == 0


def test_an_unrelated_stored_frame_is_not_used():
    """A frame of other content (a cut) does not register: nothing is known from it."""
    h, w = SIZE
    other = view(texture((2 * h, 2 * w), 7), camera(0, 0, 0, 1))
    current = view(texture((2 * h, 2 * w), 3), camera(0, 0, 0, 1))
    alpha = disc_alpha(80, 48, 20)
    plate = BackgroundPlate(SIZE, settings=PlateSettings(min_views=1))
    matted(plate, other, torch.zeros(1, h, w))
    plate.feed(composite(current, alpha), alpha)
    _, known = plate.plate(composite(current, alpha), alpha)
    assert known.sum() == 0


GREEN = torch.tensor([0.0, 1.0, 0.0]).view(3, 1, 1)


def matted(plate: BackgroundPlate, rgb: torch.Tensor, alpha: torch.Tensor) -> None:
    """A frame fed to the plate and matted at once, its alpha the final one."""
    plate.feed(rgb, alpha)
    plate.add(rgb, alpha)


def static_scene(current: torch.Tensor) -> tuple[BackgroundPlate, torch.Tensor, torch.Tensor]:
    """A plate of four frames of a disc moving over a still background, and the fifth frame's
    (background, alpha), that disc over `current(background)`, fed."""
    h, w = SIZE
    background = view(texture((2 * h, 2 * w), 4), camera(0, 0, 0, 1))
    alphas = [disc_alpha(40 + 8 * t, 48, 16) for t in range(5)]
    plate = BackgroundPlate(SIZE)
    for t in range(4):
        matted(plate, composite(background, alphas[t]), alphas[t])
    plate.feed(composite(current(background), alphas[4]), alphas[4])
    return plate, background, alphas[4]


def test_the_current_frames_background_vetoes_a_plate_that_disagrees():
    """Something new in the current frame's sure background (a moving background object)
    makes the plate unknown there and a few pixels around, not elsewhere."""

    def changed(background: torch.Tensor) -> torch.Tensor:
        out = background.clone()
        out[:, 40:56, 120:130] = GREEN  # new, in sure background
        return out

    plate, background, alpha = static_scene(changed)
    _, known = plate.plate(composite(changed(background), alpha), alpha)
    radius = PlateSettings().check_radius
    assert known[0, 40 - radius : 56 + radius, 120 - radius : 130 + radius].sum() == 0
    assert float(known[0, :25].mean()) == 1.0  # rows the disc never reached


def test_unchecked_background_is_a_finding_not_a_veto():
    """The same new thing in sure background, where the caller marks it `unchecked` (it looks
    there for strands the alpha missed): the plate stays known, so the difference shows; the
    veto still holds elsewhere."""

    def changed(background: torch.Tensor) -> torch.Tensor:
        out = background.clone()
        out[:, 40:56, 120:130] = GREEN
        out[:, 5:10, 5:10] = GREEN  # not unchecked
        return out

    plate, background, alpha = static_scene(changed)
    unchecked = torch.zeros(1, *SIZE, dtype=torch.bool)
    unchecked[:, 36:60, 116:134] = True
    current = composite(changed(background), alpha)
    plate_colours, known = plate.plate(current, alpha, None, unchecked)
    assert float(known[0, 40:56, 120:130].mean()) == 1.0
    assert torch.allclose(
        plate_colours[:, 40:56, 120:130], background[:, 40:56, 120:130], atol=0.02
    )
    assert known[0, 5:10, 5:10].sum() == 0


def test_views_that_disagree_are_not_known():
    """Where the stored frames saw different colours (flicker, a passing shadow), the median
    is not trusted."""
    h, w = SIZE
    background = view(texture((2 * h, 2 * w), 5), camera(0, 0, 0, 1))
    plate = BackgroundPlate(SIZE, settings=PlateSettings(min_views=2))
    none = torch.zeros(1, h, w)
    for t in range(4):
        frame = background.clone()
        frame[:, 10:30, 10:30] = t / 3  # grey, then darker or brighter in each frame
        matted(plate, frame, none)
    plate.feed(background, none)
    _, known = plate.plate(background)
    assert known[0, 12:28, 12:28].sum() == 0
    assert float(known[0, 40:, 40:].mean()) == 1.0


def test_views_that_roughly_agree_are_trusted_less():
    """Views within the plate's tolerance of each other but not equal (noise, a background
    drifting by itself) are known, with less trust than views that agree exactly: `known`
    is (1 - their mean distance from the median / agree) ** trust, which refine.py's colour
    samples lean on (`BestSettings.plate_sample_weight`)."""
    h, w = SIZE
    background = view(texture((2 * h, 2 * w), 5), camera(0, 0, 0, 1))
    settings = PlateSettings()
    plate = BackgroundPlate(SIZE, settings=settings)
    none = torch.zeros(1, h, w)
    for t in range(4):
        frame = background.clone()
        frame[:, 10:30, 10:30] += 0.02 * (t % 2) - 0.01  # 0.01 darker, then brighter
        matted(plate, frame, none)
    plate.feed(background, none)
    _, known = plate.plate(background)
    # Two views on the median, two 0.02 from it: a mean distance of 0.01.
    expected = (1 - 0.01 / settings.agree) ** settings.trust
    assert 0 < expected < 0.5
    assert torch.allclose(known[0, 12:28, 12:28], torch.tensor(expected), atol=1e-3)
    assert float(known[0, 40:, 40:].mean()) == 1.0


def test_region_limits_the_work_to_the_pixels_asked_for():
    cams = [camera(1.0 * t, 0, 0, 1) for t in range(6)]
    rgb, alphas, _ = moving_clip(6, cams, seed=6)
    region = F.max_pool2d(((alphas[5] > 0) & (alphas[5] < 1)).float()[None], 5, 1, 2)[0] > 0
    results = []
    for r in (None, region):
        plate = BackgroundPlate(SIZE)
        for t in range(5):
            matted(plate, rgb[t], alphas[t])
        plate.feed(rgb[5], alphas[5])
        results.append(plate.plate(rgb[5], alphas[5], r))
    (full_bg, full_known), (bg, known) = results
    assert known.sum() > 0
    assert torch.equal(known, full_known * region)
    assert torch.allclose(bg[:, region[0]], full_bg[:, region[0]])
    assert bg[:, ~region[0]].abs().sum() == 0


def test_memory_is_bounded_by_the_ring():
    h, w = SIZE
    plate = BackgroundPlate(SIZE, settings=PlateSettings(frames=3))
    held = plate.nbytes
    frame = torch.rand(3, h, w)
    for _ in range(7):
        matted(plate, frame, torch.zeros(1, h, w))
    assert len(plate) == 3
    assert plate.nbytes == held
    # Three frames of colour and background at full size, two pyramid levels' worth more.
    assert held < 3 * (4 * h * w) * 4 * 1.5
    plate.clear()
    assert len(plate) == 0
    plate.feed(frame, torch.zeros(1, h, w))
    background, known = plate.plate(frame)
    assert known.sum() == 0 and background.abs().sum() == 0


def test_wrong_shapes_are_refused():
    plate = BackgroundPlate(SIZE)
    h, w = SIZE
    with pytest.raises(ValueError, match=r"rgb must be \(3, 96, 160\)"):
        plate.feed(torch.rand(3, h, w + 1), torch.zeros(1, h, w))
    with pytest.raises(ValueError, match=r"alpha must be \(1, 96, 160\)"):
        plate.plate(torch.rand(3, h, w), torch.zeros(h, w))
    with pytest.raises(ValueError, match=r"region must be \(1, 96, 160\)"):
        plate.plate(torch.rand(3, h, w), None, torch.ones(h, w, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"unchecked must be \(1, 96, 160\)"):
        plate.plate(torch.rand(3, h, w), None, None, torch.ones(h, w, dtype=torch.bool))


def test_frames_fed_ahead_give_the_background_the_object_covers_now():
    """The first frame of a pan has no earlier frames; the four fed after it (`feed`, with
    their tracking masks) have moved off what the disc covers in it: the plate knows that
    background, true to the world, though no frame before it exists."""
    cameras = [camera(4 * t, t, 0, 1) for t in range(6)]
    rgb, alphas, backgrounds = moving_clip(6, cameras, seed=3)
    plate = BackgroundPlate(SIZE, settings=PlateSettings(upcoming=4))
    for t in range(5):
        plate.feed(rgb[t], (alphas[t] > 0).float())
    colours, known = plate.plate(rgb[0], alphas[0])
    covered = alphas[0][0] > 0.99
    uncovered_later = covered & (alphas[4][0] == 0)  # what frame 4 saw (before the pan's shift)
    assert float(known[0][covered].mean()) > 0.3
    assert float(known[0][uncovered_later].mean()) > 0.5
    error = (colours - backgrounds[0]).abs().amax(0)
    assert float(error[known[0] > 0].mean()) < 0.02


def test_fed_frames_are_matted_in_the_order_they_were_fed():
    """Each fed frame is asked for and added in turn (its final alpha then replaces its
    tracking mask); a frame not fed, another frame in its place, or more fed than the ring
    holds, is an error, not a plate for the wrong frame."""
    rgb, alphas, _ = moving_clip(10, [camera(2 * t, 0, 0, 1) for t in range(10)])
    plate = BackgroundPlate(SIZE, settings=PlateSettings(frames=4))
    with pytest.raises(ValueError, match="fed to the plate"):
        plate.plate(rgb[0], alphas[0])
    with pytest.raises(ValueError, match="fed to the plate"):
        plate.add(rgb[0], alphas[0])
    for t in range(3):
        plate.feed(rgb[t], alphas[t])
    with pytest.raises(ValueError, match="order they were fed"):
        plate.plate(rgb[1], alphas[1])
    plate.plate(rgb[0], alphas[0])
    plate.add(rgb[0], torch.zeros_like(alphas[0]))  # settles frame 0: all of it background
    assert plate.pending[0] == 1 and len(plate.pending) == 2
    assert float(plate.background[0].mean()) == 1.0
    with pytest.raises(ValueError, match="order they were fed"):
        plate.add(rgb[2], alphas[2])
    plate.feed(rgb[3], alphas[3])
    plate.feed(rgb[4], alphas[4])  # replaces frame 0, matted already
    with pytest.raises(ValueError, match="holds no more unmatted"):
        plate.feed(rgb[5], alphas[5])  # would replace frame 1, not yet matted


@pytest.mark.parametrize(
    ("stored", "current", "used"),
    [
        (16, 15, [0, 1, 2, 3, 4, 5, 6, 7]),  # 16 frames, all behind: the oldest 8
        (10, 9, [0, 1, 2, 3, 4, 5, 6, 7]),  # a 10-frame clip's last frame
        (10, 5, [0, 1, 2, 3, 4, 7, 8, 9]),  # four ahead: the nearest ahead is left out
    ],
)
def test_a_plate_of_few_views_takes_the_frames_farthest_in_time(
    stored: int, current: int, used: list[int]
) -> None:
    """`views` 8 (the default): the current frame's plate comes from the 8 stored frames
    farthest from it in time, behind it before ahead of it at the same distance (the object
    has moved farthest off its background there), and recovers the background the disc
    covers. (Every other frame by ring distance took 7 of a full ring's 15 others and 4 of a
    10-frame clip's 9.)"""
    h, w = SIZE
    world = texture((2 * h, 2 * w), 5)
    truth = [view(world, camera(2.0 * t, 0.0, 0.0, 1.0)) for t in range(stored)]
    alphas = [disc_alpha(w * (0.2 + 0.04 * t), h * 0.5, h * 0.2) for t in range(stored)]
    rgb = [composite(b, a) for b, a in zip(truth, alphas, strict=True)]
    plate = BackgroundPlate(SIZE)  # 8 views, the default
    for t in range(current):
        matted(plate, rgb[t], alphas[t])
    for t in range(current, stored):
        plate.feed(rgb[t], alphas[t])
    plate.registered.zero_()  # written for each frame the plate is made from
    background, known = plate.plate(rgb[current], alphas[current])
    assert [t for t in range(stored) if plate.registered[t].abs().sum() > 0] == used
    disc = alphas[current] > 0
    behind = disc & (known > 0)
    assert behind.sum() >= 0.9 * disc.sum()
    error = (background - truth[current]).abs().mean(0, keepdim=True)[behind].mean()
    assert float(error) < 2 / 255


@pytest.mark.parametrize("views", [1, 2, 3, 5, 8, 13, 23])
def test_the_median_of_the_views_seen_is_nanmedians(views: int) -> None:
    """The plate's per-pixel median of the views that saw a pixel (`masked_median`, a
    sorting network on the CPU) is torch's nanmedian of them, the lower of two middle ones
    included, and 0 where no view saw it."""
    g = torch.Generator().manual_seed(views)
    values = torch.randint(0, 6, (views, 3, 400), generator=g).float() / 5  # ties too
    seen = torch.rand(views, 1, 400, generator=g) > 0.4
    seen[:, :, :7] = False
    expected = values.masked_fill(~seen, torch.nan).nanmedian(0).values.nan_to_num(0.0)
    median = masked_median(values, seen)
    assert torch.equal(median, expected)
    assert median[:, :7].eq(0).all()


@pytest.mark.parametrize("entries", range(1, 12))
def test_the_sorting_network_sorts_every_input(entries: int) -> None:
    """Every 0/1 input comes out sorted, so every input does (the 0-1 principle)."""
    for code in range(2**entries):
        row = [(code >> i) & 1 for i in range(entries)]
        for i, j in sorting_network(entries):
            row[i], row[j] = min(row[i], row[j]), max(row[i], row[j])
        assert row == sorted(row), code


def test_a_pixel_grid_with_a_step_holds_every_steps_pixel_centre():
    """Registration's costs compare every other pixel (`COST_STEP`): the same centres as the
    whole grid's, not a grid of its own."""
    size, cpu = (7, 10), torch.device("cpu")
    whole = pixel_grid(size, cpu).view(*size, 3)
    assert torch.equal(pixel_grid(size, cpu, 2), whole[::2, ::2].reshape(-1, 3))
    assert torch.equal(pixel_grid(size, cpu, 3), whole[::3, ::3].reshape(-1, 3))


def test_warping_frames_of_a_stack_is_warping_them_taken_out() -> None:
    """`warp` with `ids` samples each frame where it lies in the stack, as if copied out."""
    torch.manual_seed(0)
    stack = torch.rand(6, 3, *SIZE)
    ids = torch.tensor([4, 1, 5])
    homography = torch.eye(3).repeat(3, 1, 1)
    homography[:, :2, 2] = torch.tensor([[0.1, -0.05], [-0.2, 0.0], [0.3, 0.2]])
    points = pixel_grid(SIZE, stack.device, 3)
    sampled, inside = warp(stack, homography, points, ids)
    expected, expected_inside = warp(stack[ids], homography, points)
    assert sampled.shape == (3, 3, len(points))
    assert torch.equal(sampled, expected) and torch.equal(inside, expected_inside)
    assert not bool(inside.all()) and bool(inside.any())  # the shifts leave the frame


def object_clip(clear: bool) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(rgb, alpha) of a large disc moving 4 px a frame under a panning camera: opaque, with
    a texture of its own that moves with it, or clear glass (alpha 0.35 of a pale tint)."""
    h, w = SIZE
    world, own = texture((2 * h, 2 * w), 4), texture((h, 2 * w), 5)
    rgb, alphas = [], []
    for t in range(9):
        cx = w * 0.4 + 4 * t
        alpha = disc_alpha(cx, h * 0.5, h * 0.4)
        background = view(world, camera(2.0 * t, -1.0 * t, 0, 1))
        if clear:
            rgb.append(0.35 * alpha * 0.9 + (1 - 0.35 * alpha) * background)
        else:
            surface = own[0, :, :, w - 4 * t : 2 * w - 4 * t]  # moves with the disc
            rgb.append(alpha * surface + (1 - alpha) * background)
        alphas.append(alpha)
    return rgb, alphas


@pytest.mark.parametrize("clear", [True, False], ids=["glass", "opaque"])
def test_covered_views_follow_the_background_and_the_object_apart(clear: bool):
    """Where other frames' object covered the current frame's deep inside too, `covered`
    warps them once by the background's motion and once by the object's (found from the
    silhouettes alone). Through clear glass the frame is the first (the background stays
    behind as the glass moves over it; measured 0.006 from the first, 0.12 from the second);
    an opaque object's texture is the second (0.19 and 0.0000002). Views whose object moved
    less than `moved` pixels there are left out; where none moved that far, there is
    nothing to compare (None)."""
    rgb, alphas = object_clip(clear)
    plate = BackgroundPlate(SIZE)
    for t in range(9):
        plate.feed(rgb[t], alphas[t])
    current = 4
    for t in range(current + 1):
        plate.plate(rgb[t], alphas[t])
        if t < current:
            plate.add(rgb[t], alphas[t])
    inside = alphas[current] > 0.999
    found = plate.covered(rgb[current], alphas[current], inside, moved=6.0)
    assert found is not None
    both = found.background_known[0] & found.object_known[0]
    assert int(both.sum()) > 0.5 * int(inside.sum())
    frame = rgb[current]
    stays = (found.background - frame).abs().amax(0)[both].mean()
    follows = (found.object - frame).abs().amax(0)[both].mean()
    if clear:
        assert float(stays) < 0.02 and float(follows) > 0.05
    else:
        assert float(follows) < 0.02 and float(stays) > 0.05
    assert float(found.background.abs().sum() + found.object.abs().sum()) > 0
    assert plate.covered(rgb[current], alphas[current], inside, moved=1000.0) is None
    outside = ~inside[0]
    assert float(found.background[:, outside].abs().sum()) == 0


def test_covered_asks_for_the_plate_of_the_same_frame_first():
    """`covered` uses the views and maps of the plate just made for the frame: with no
    plate made for it yet, there is nothing to compare (None)."""
    rgb, alphas = object_clip(True)
    plate = BackgroundPlate(SIZE)
    for t in range(3):
        plate.feed(rgb[t], alphas[t])
    assert plate.covered(rgb[0], alphas[0], alphas[0] > 0.999, moved=0.0) is None
    plate.plate(rgb[0], alphas[0])
    found = plate.covered(rgb[0], alphas[0], alphas[0] > 0.999, moved=0.0)
    assert found is not None and bool(found.background_known.any())
