"""HDR video (PQ or HLG, ITU-R BT.2100) to the linear light and the SDR colour the rest of
vidmatte works in.

A PQ or HLG signal read as it is stored looks dark and flat in the editor (HDR reference white,
203 cd/m², is 58% of PQ's range; the matting head learned on SDR pictures), and its BT.2020
primaries look washed out taken as BT.709's. `linear_light` undoes the source's own transfer
(PQ's EOTF; HLG's inverse OETF and its OOTF at a 1000 cd/m² display, on the luminance of the
signal's own primaries) on the scale ITU-R BT.2408 sets, reference white 1.0, and converts
BT.2020 primaries to BT.709's (ITU-R BT.2087), P3-D65's, DCI-P3's and other wide sets' too
(`converts`); `to_sdr` then tone maps that to 8-bit sRGB for display and matting: light up to
3/4 of reference white is kept as it is, above that an extended Reinhard shoulder, on each
pixel's brightest channel (hue kept), brings the display's peak to white (a PQ video's own,
where its metadata states one, `display_peak`; else 1000 cd/m², PQ's usual mastering and HLG's
nominal display); brighter is clipped. All per frame in numpy, through lookup tables. HDR that
states no primaries is taken as BT.2020's (`shown_primaries`); SDR in wide primaries is
converted to BT.709's for display and matting too (`sdr_in_bt709`), and SDR that states a pure
power law (`POWER_LAWS`, a DCI-P3 master's gamma 2.6) made sRGB from the light that law gives.
`signal` goes the other way, for colours made here (a composite's background).
Sums of light (a soft edge: the foreground's estimate, a composite) are made in
`light_fraction`'s light instead: HLG's scene light, before the OOTF, whose gamma on the
display's luminance is not linear (PQ's display light is the scene's up to scale).
"""

from __future__ import annotations

from functools import cache

import numpy as np

PQ, HLG = 16, 18  # ITU-T H.273 transfer characteristics (AVCOL_TRC_SMPTE2084, ARIB_STD_B67)
HDR_TRANSFERS = frozenset({PQ, HLG})
# ITU-T H.273 colour primaries (P3-D65: SMPTE EG 432-1; DCI-P3: SMPTE RP 431-2, DCI white)
BT2020, DCI_P3, P3_D65 = 9, 11, 12
# SMPTE ST 428-1's CIE XYZ (a DCP's): FFmpeg decodes its xyz12 pixels as BT.709 RGB (`_CONVERTED`).
XYZ = 10
REFERENCE_WHITE = 203.0  # cd/m², HDR's diffuse white (ITU-R BT.2408): linear 1.0 here
PEAK = 1000.0  # cd/m²: HLG's nominal display, PQ's usual mastering display
PQ_MAX = 10000.0  # cd/m²: the brightest light PQ can hold
_KNEE = 0.75  # of reference white: below it the tone curve keeps light as it is
_ROWS_AT_ONCE = 256  # float temporaries of a whole 8K frame would take GBs
# PQ (SMPTE ST 2084) constants.
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# HLG (ITU-R BT.2100) constants, and its system gamma at a 1000 cd/m² display.
_A = 0.17883277
_B = 1 - 4 * _A
_C = 0.5 - _A * np.log(4 * _A)
_HLG_GAMMA = 1.2
# CIE xy chromaticities (ITU-T H.273's table of colour primaries): red, green, blue; white.
_D65 = (0.3127, 0.3290)
_BT709_XY = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
_P3_XY = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
# Primaries whose colour differs enough from BT.709's to convert, by their H.273 code, with
# their white point: DCI-P3's is DCI's (SMPTE RP 431-2), BT.470M's (NTSC 1953) and film's
# Illuminant C, adapted to BT.709's D65 (`_to_bt709`): their matrices move a channel by 16%
# (DCI-P3) to 49% (BT.470M), as P3-D65's does by 22%. Those left out are taken as BT.709's:
# 5 (BT.470BG, PAL: only green differs, 0.29 for 0.30), 6 and 7 (SMPTE 170M and 240M,
# NTSC's SMPTE C) and 22 (EBU 3213) are D65 too and move a channel by 4 to 6%, and 5 and 6
# are what phones and SD encoders tag BT.709-coloured footage with (one "BT.601" setting for
# matrix and primaries alike), whose colour a conversion would shift; 10 (SMPTE ST 428 XYZ,
# a DCP's) is decoded as FFmpeg's xyz12 pixel format, which swscale already makes BT.709
# RGB. Unstated (2) and codes H.273 reserves are taken as BT.709's, as ever.
_CONVERTED: dict[int, tuple[tuple[tuple[float, float], ...], tuple[float, float]]] = {
    4: (((0.67, 0.33), (0.21, 0.71), (0.14, 0.08)), (0.310, 0.316)),  # BT.470M
    8: (((0.681, 0.319), (0.243, 0.692), (0.145, 0.049)), (0.310, 0.316)),  # film, C
    DCI_P3: (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), (0.314, 0.351)),
}
# The Bradford cone response matrix (Lam, 1985), rows the cone responses of CIE XYZ.
_BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    """CIE XYZ of chromaticity `xy` at luminance Y 1."""
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def _rgb_to_xyz(
    primaries: tuple[tuple[float, float], ...], white: tuple[float, float]
) -> np.ndarray:
    """Linear RGB in `primaries` to CIE XYZ, RGB 1, 1, 1 being `white` at Y 1 (SMPTE RP 177's
    normalised primary matrix)."""
    columns = np.stack([_xyz(xy) for xy in primaries], axis=1)
    return columns * np.linalg.solve(columns, _xyz(white))


def _to_bt709(primaries: tuple[tuple[float, float], ...], white: tuple[float, float]) -> np.ndarray:
    """Linear RGB in `primaries` to linear BT.709 RGB, rows the output: to XYZ, its white
    adapted to D65 with Bradford's von Kries transform in cone space (so the source's white,
    RGB 1, 1, 1, comes out BT.709's white, not tinted), then to BT.709 RGB."""
    cones = _BRADFORD @ _xyz(white), _BRADFORD @ _xyz(_D65)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cones[1] / cones[0]) @ _BRADFORD
    to_xyz = adapt @ _rgb_to_xyz(primaries, white)
    return np.linalg.solve(_rgb_to_xyz(_BT709_XY, _D65), to_xyz).astype(np.float32)


# Linear RGB in these primaries to linear BT.709 RGB, rows the output: BT.2020's (ITU-R
# BT.2087), P3-D65's (from the two sets' chromaticities, as BT.2087 derives its own; both D65:
# `_to_bt709` gives the same to 6 decimals), and `_CONVERTED`'s, white adapted.
_TO_BT709 = {
    BT2020: np.array(
        [
            [1.660491, -0.587641, -0.072850],
            [-0.124551, 1.132900, -0.008349],
            [-0.018151, -0.100579, 1.118730],
        ],
        np.float32,
    ),
    P3_D65: np.array(
        [
            [1.224940, -0.224940, 0.0],
            [-0.042057, 1.042057, 0.0],
            [-0.019638, -0.078636, 1.098274],
        ],
        np.float32,
    ),
} | {code: _to_bt709(*chromaticities) for code, chromaticities in _CONVERTED.items()}
_FROM_BT709 = {p: np.linalg.inv(m.astype(np.float64)) for p, m in _TO_BT709.items()}
# The luminance of linear RGB in each set of primaries, which HLG's OOTF raises the display's
# light by (ITU-R BT.2390: the signal's own primaries' luminance; BT.2100's coefficients are
# BT.2020's). P3-D65's and `_CONVERTED`'s from their chromaticities (the Y row of their RGB
# to XYZ); any other set is taken as BT.709's (`converts`), and so its luminance.
_LUMA = {
    BT2020: np.array([0.2627, 0.6780, 0.0593], np.float32),
    P3_D65: _rgb_to_xyz(_P3_XY, _D65)[1].astype(np.float32),
} | {code: _rgb_to_xyz(*xy)[1].astype(np.float32) for code, xy in _CONVERTED.items()}
_BT709_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
# What `gamut` calls the primaries `converts`.
_GAMUTS = {BT2020: "BT.2020", P3_D65: "P3-D65", DCI_P3: "DCI-P3", 4: "BT.470M", 8: "generic film"}


# SDR transfers that are pure power laws, by their H.273 code, with their exponent (code value
# to light), white at 1.0: gamma 2.2 (4, BT.470M's), linear (8) and SMPTE ST 428-1's 2.6 (17:
# DCI's, which DCI-P3 masters state). Any other SDR transfer is taken as sRGB's: media/export.py
# says why (BT.470BG's gamma 2.8, 5, is PAL's BT.601 curve mis-stated).
POWER_LAWS = {4: 2.2, 8: 1.0, 17: 2.6}
# Their names, for the user.
_POWER_LAW_NAMES = {4: "gamma 2.2 (BT.470M)", 8: "linear", 17: "gamma 2.6 (SMPTE ST 428)"}


# H.273 colour primaries that say nothing: reserved (0, 3) and unstated (2).
_UNSTATED = frozenset({0, 2, 3})


def is_hdr(transfer: int) -> bool:
    return transfer in HDR_TRANSFERS


def shown_primaries(transfer: int, primaries: int) -> int:
    """The primaries a frame's colour is taken in for display and matting: those stated, or
    for HDR (PQ, HLG) that states none BT.2020's, which ITU-R BT.2100 (HDR10, HLG) has and
    HDR players assume (taken as BT.709's, its colours showed far less saturated)."""
    return BT2020 if is_hdr(transfer) and primaries in _UNSTATED else primaries


def linear_light(signal: np.ndarray, transfer: int, primaries: int) -> np.ndarray:
    """Integer RGB (uint8 or uint16, HxWx3) of an HDR `transfer` to linear light in BT.709
    primaries (from BT.2020's, P3-D65's and others' where `primaries` says so, `in_bt709`),
    float32, reference white 1.0: PQ's highlights go up to 49 (10,000 cd/m²), HLG's to PEAK /
    REFERENCE_WHITE. Colours outside BT.709 have a channel below 0."""
    levels = np.iinfo(signal.dtype).max + 1
    light = _signal_to_light(transfer, levels)[signal]
    if transfer == HLG:  # the OOTF: the display's gamma, on the scene's luminance
        luma = np.maximum(light @ _luma(primaries), 0.0)
        light *= (PEAK / REFERENCE_WHITE * luma ** (_HLG_GAMMA - 1))[..., None]
    return in_bt709(light, primaries)


def _luma(primaries: int) -> np.ndarray:
    """The luminance coefficients of linear RGB in `primaries` (`_LUMA`), float32."""
    return _LUMA.get(primaries, _BT709_LUMA)


def converts(primaries: int) -> bool:
    """Whether light in `primaries` differs from BT.709's: BT.2020's, P3-D65's, DCI-P3's,
    BT.470M's and film's do; any other's (BT.709's, unstated, SMPTE 170M's close to them:
    `_CONVERTED`) is taken as BT.709's."""
    return primaries in _TO_BT709


def power_law(transfer: int, primaries: int) -> float | None:
    """The exponent of the pure power law (`POWER_LAWS`) an SDR frame's code values are in, or
    None for sRGB's curve (any other transfer). An XYZ frame's (a DCP's) are swscale's BT.709
    RGB whatever its transfer states (ST 428-1's 2.6): exports take them as gamma 2.2
    (media/export.py's `_decoded`); they are shown as they are decoded, as before."""
    return None if primaries == XYZ else POWER_LAWS.get(transfer)


def power_law_name(transfer: int) -> str:
    """The name of `transfer`'s power law ("gamma 2.6 (SMPTE ST 428)"), "" for others."""
    return _POWER_LAW_NAMES.get(transfer, "")


def gamut(primaries: int) -> str:
    """The name of `primaries` that `converts` ("P3-D65"), for the user; "" for others."""
    return _GAMUTS.get(primaries, "")


def in_bt709(light: np.ndarray, primaries: int) -> np.ndarray:
    """Linear RGB (float32, HxWx3) in `primaries` as BT.709's (`converts`): P3-D65's red was
    taken as BT.709's, less saturated than it is."""
    matrix = _TO_BT709.get(primaries)
    return light if matrix is None else light @ matrix.T


def from_bt709(light: np.ndarray, primaries: int) -> np.ndarray:
    """`in_bt709`'s inverse: linear BT.709 RGB (float, ...x3) in `primaries`."""
    matrix = _FROM_BT709.get(primaries)
    return light if matrix is None else light @ matrix.T


def signal(light: np.ndarray, transfer: int, primaries: int) -> np.ndarray:
    """`linear_light`'s inverse, for colours made here (a composite's background): linear
    BT.709 RGB (float, ...x3, reference white 1.0, none below 0) as the HDR `transfer`'s
    signal in `primaries`, 0..1 (float64)."""
    fraction = scene_fraction(light, transfer, primaries)
    return _pq_signal(fraction) if transfer == PQ else _hlg_signal(fraction)


def scene_fraction(light: np.ndarray, transfer: int, primaries: int) -> np.ndarray:
    """Linear BT.709 RGB as `linear_light` gives it (float, ...x3, reference white 1.0, none
    below 0) as `light_fraction`'s light in `primaries` (float64, 0..1, brighter clipped):
    PQ's scaled, HLG's with its OOTF undone on the primaries' luminance (`_luma`), as
    `linear_light` applies it, back to the scene's light."""
    light = np.maximum(from_bt709(np.asarray(light, np.float64), primaries), 0.0)
    if transfer == PQ:
        return np.minimum(light * REFERENCE_WHITE / PQ_MAX, 1.0)
    if transfer != HLG:
        raise ValueError(f"transfer {transfer} is not PQ or HLG")
    display = light * REFERENCE_WHITE / PEAK  # the display's light, 0..1 of its peak
    luma = display @ _luma(primaries).astype(np.float64)
    scene_luma = luma ** (1 / _HLG_GAMMA)
    scene = np.divide(
        display,
        (scene_luma ** (_HLG_GAMMA - 1))[..., None],
        out=np.zeros_like(display),
        where=(scene_luma > 0)[..., None],
    )
    return np.minimum(scene, 1.0)


def light_fraction(signal: np.ndarray, transfer: int) -> np.ndarray:
    """Integer RGB (uint8 or uint16, ...x3) of an HDR `transfer` as the light each channel
    stands for, as a fraction of the most the transfer holds (float32, 0..1): PQ's display
    light of 10,000 cd/m², HLG's scene light before its OOTF (the camera's light, which a
    soft edge mixes: the OOTF's gamma is not linear), in the signal's own primaries (no
    channel below 0, unlike `linear_light`'s BT.709). For sums of light such as a soft
    edge's; `fraction_signal` is its inverse."""
    return _fractions(transfer, np.iinfo(signal.dtype).max + 1)[signal]


def fraction_signal(fraction: np.ndarray, transfer: int, dtype: type[np.integer]) -> np.ndarray:
    """`light_fraction`'s inverse: light fractions (float, ...x3, clipped to 0..1) as the
    HDR `transfer`'s code values in `dtype` (uint8 or uint16), rounded, band by band."""
    if transfer not in HDR_TRANSFERS:
        raise ValueError(f"transfer {transfer} is not PQ or HLG")
    encode = _pq_signal if transfer == PQ else _hlg_signal
    flat = np.asarray(fraction).reshape(-1)
    out = np.empty(flat.shape, dtype)
    step = _ROWS_AT_ONCE * 4096
    for start in range(0, flat.size, step):
        part = np.clip(flat[start : start + step].astype(np.float64), 0.0, 1.0)
        out[start : start + step] = np.round(encode(part) * np.iinfo(dtype).max)
    return out.reshape(np.shape(fraction))


def _pq_signal(light: np.ndarray) -> np.ndarray:
    """PQ's inverse EOTF: display light as a fraction of 10,000 cd/m² to its signal, 0..1."""
    y = light**_M1
    return ((_C1 + _C2 * y) / (1 + _C3 * y)) ** _M2


def _hlg_signal(scene: np.ndarray) -> np.ndarray:
    """HLG's OETF: scene light, 0..1, to its signal, 0..1."""
    log_part = _A * np.log(np.maximum(12 * scene - _B, 1e-12)) + _C
    return np.where(scene <= 1 / 12, np.sqrt(3 * scene), log_part)


def display_peak(transfer: int, max_cll: float = 0.0, mastering_max: float = 0.0) -> float:
    """The light (cd/m²) tone mapping takes to white: for PQ its content's brightest pixel
    (MaxCLL, CTA-861.3), else its mastering display's peak (SMPTE ST 2086), each where stated
    (0: not), kept between reference white and PQ's 10,000; else PEAK (HLG's is its nominal
    display's whatever the mastering)."""
    stated = max_cll or mastering_max
    if transfer != PQ or not stated > 0:
        return PEAK
    return min(max(stated, REFERENCE_WHITE), PQ_MAX)


def to_sdr(signal: np.ndarray, transfer: int, primaries: int, peak: float = PEAK) -> np.ndarray:
    """HDR RGB (uint16, HxWx3) as 8-bit sRGB (uint8, BT.709 primaries), tone mapped (the
    module docstring) to bring `peak` (cd/m², `display_peak`) to white, band by band."""
    out = np.empty(signal.shape, np.uint8)
    for row in range(0, signal.shape[0], _ROWS_AT_ONCE):
        band = slice(row, row + _ROWS_AT_ONCE)
        light = np.maximum(linear_light(signal[band], transfer, primaries), 0.0)
        brightest = light.max(axis=-1, keepdims=True)
        scale = np.divide(
            _tone(brightest, peak), brightest, out=np.ones_like(brightest), where=brightest > 0
        )
        encoded = np.minimum(light * scale, 1.0) * 65535 + 0.5
        out[band] = _srgb8()[encoded.astype(np.uint16)]
    return out


def sdr_in_bt709(signal: np.ndarray, transfer: int, primaries: int) -> np.ndarray:
    """SDR RGB (uint8 or uint16, HxWx3, full range) in wide `primaries` (`converts`) or a
    stated power law (`power_law`) as 8-bit sRGB in BT.709's (uint8), band by band: its light
    (the power law undone, else sRGB's curve, as exports' EXRs take it: greys and white of
    BT.709-like SDR keep their codes) through the primaries' matrix, what lies outside BT.709
    clipped, sRGB-encoded. A DCI-P3 master's gamma-2.6 grey 128 (light 0.166) is sRGB's 113,
    not 128 (light 0.216, 30% lighter than its EXR). For display and matting; exports keep
    the source's."""
    levels = np.iinfo(signal.dtype).max + 1
    gamma = power_law(transfer, primaries)
    to_light = _srgb_light(levels) if gamma is None else power_light(gamma, levels)
    out = np.empty(signal.shape, np.uint8)
    for row in range(0, signal.shape[0], _ROWS_AT_ONCE):
        band = slice(row, row + _ROWS_AT_ONCE)
        light = np.clip(in_bt709(to_light[signal[band]], primaries), 0.0, 1.0)
        out[band] = _srgb8()[(light * 65535 + 0.5).astype(np.uint16)]
    return out


def _tone(light: np.ndarray, peak: float) -> np.ndarray:
    """Relative light (reference white 1.0) to SDR's 0..1: kept below _KNEE; above it an
    extended Reinhard curve, of slope 1 at the knee, that reaches 1 at `peak` (cd/m², at
    least reference white)."""
    span = 1 - _KNEE
    over = np.maximum(light - _KNEE, 0.0) / span
    white = (peak / REFERENCE_WHITE - _KNEE) / span
    shoulder = _KNEE + span * over * (1 + over / white**2) / (1 + over)
    return np.where(light <= _KNEE, light, np.minimum(shoulder, 1.0))


@cache
def _signal_to_light(transfer: int, levels: int) -> np.ndarray:
    """Each of `levels` code values (full range) to light: PQ's display light relative to
    reference white; HLG's scene light, 0..1 (its OOTF needs all three channels)."""
    e = np.arange(levels, dtype=np.float64) / (levels - 1)
    if transfer == PQ:
        p = e ** (1 / _M2)
        light = (np.maximum(p - _C1, 0) / (_C2 - _C3 * p)) ** (1 / _M1) * 10000 / REFERENCE_WHITE
    elif transfer == HLG:
        light = np.where(e <= 0.5, e**2 / 3, (np.exp((e - _C) / _A) + _B) / 12)
    else:
        raise ValueError(f"transfer {transfer} is not PQ or HLG")
    return light.astype(np.float32)


@cache
def _fractions(transfer: int, levels: int) -> np.ndarray:
    """Each of `levels` code values to `light_fraction`'s light, 0..1."""
    light = _signal_to_light(transfer, levels)
    return light / light[-1]


@cache
def _srgb_light(levels: int) -> np.ndarray:
    """Each of `levels` sRGB code values (IEC 61966-2-1) to linear light, 0..1 (float32)."""
    return srgb_decode(np.arange(levels, dtype=np.float64) / (levels - 1)).astype(np.float32)


@cache
def power_light(gamma: float, levels: int) -> np.ndarray:
    """Each of `levels` code values to light through a power law `gamma`, 0..1 (float32)."""
    return ((np.arange(levels, dtype=np.float64) / (levels - 1)) ** gamma).astype(np.float32)


@cache
def _srgb8() -> np.ndarray:
    """Linear light in 65,536 steps (0..1) to 8-bit sRGB (IEC 61966-2-1)."""
    return np.round(srgb_encode(np.arange(65536, dtype=np.float64) / 65535) * 255).astype(np.uint8)


def srgb_decode(code: np.ndarray) -> np.ndarray:
    """sRGB's curve undone (IEC 61966-2-1): code values 0..1 to linear light 0..1, in the
    array's own float type. The one place the curve is written (exports, images, display)."""
    return np.where(code <= 0.04045, code / 12.92, ((code + 0.055) / 1.055) ** 2.4)


def srgb_encode(light: np.ndarray) -> np.ndarray:
    """`srgb_decode`'s inverse: linear light 0..1 to sRGB code values 0..1."""
    return np.where(light <= 0.0031308, light * 12.92, 1.055 * light ** (1 / 2.4) - 0.055)
