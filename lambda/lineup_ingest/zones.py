"""The festival's time zone: an IANA name, checked against the runtime's zone database."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The zone when the stack names none (the FestivalTimeZone parameter's default).
DEFAULT_TIME_ZONE = "UTC"
# The object metadata that sets one upload's time zone (aws s3 cp --metadata timezone=...).
ZONE_METADATA = "timezone"


def known_zone(name: str) -> bool:
    """An IANA time zone name the runtime's zone database has (UTC always)."""
    if name == DEFAULT_TIME_ZONE:
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones
        return False
    return True
