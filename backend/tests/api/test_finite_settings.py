"""Float limits of the API edge given as "inf" (or a literal float() makes infinite): each
turned a limit into nonsense without a word (config.py). VIDMATTE_MIN_UPLOAD_RATE=inf had
every upload that ran past the idle timeout dropped with a 408 "the minimum is inf";
VIDMATTE_MAX_ASPECT=inf let through frames too narrow to matte; VIDMATTE_IDLE_TIMEOUT=inf and
VIDMATTE_EVENT_PING_SECONDS=inf silently turned the slow-client guard and the event streams'
keep-alive (and re-reads) off."""

from __future__ import annotations

import pytest

from vidmatte.config import SettingError, Settings


@pytest.mark.parametrize(
    "name, least",
    [
        ("MIN_UPLOAD_RATE", "0"),
        ("MAX_ASPECT", "1"),
        ("IDLE_TIMEOUT", "0.1"),
        ("EVENT_PING_SECONDS", "0.1"),
    ],
)
@pytest.mark.parametrize("raw", ["inf", "1e999", "Infinity", "-inf", "nan"])
def test_a_float_limit_that_is_not_finite_is_refused_by_name(
    name: str, least: str, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"VIDMATTE_{name}", raw)
    with pytest.raises(SettingError) as refused:
        Settings()
    assert str(refused.value) == (
        f"VIDMATTE_{name} must be a finite number of at least {least}, not '{raw}'"
    )


@pytest.mark.parametrize(
    "name, raw, field, value",
    [
        ("MIN_UPLOAD_RATE", "1e6", "min_upload_rate", 1e6),
        ("MAX_ASPECT", "12.5", "max_aspect", 12.5),
        ("IDLE_TIMEOUT", "3600", "idle_timeout", 3600.0),
        ("EVENT_PING_SECONDS", "0.5", "event_ping_seconds", 0.5),
    ],
)
def test_a_finite_float_limit_is_taken(
    name: str, raw: str, field: str, value: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"VIDMATTE_{name}", raw)
    assert getattr(Settings(), field) == value
