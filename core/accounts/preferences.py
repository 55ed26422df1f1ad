"""Each user's language and time zone for the dashboard, kept with the user (None: the browser's)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from core import inputs
from core.accounts.users import actor_of
from core.database import session_scope
from core.errors import InvalidInput
from db.models import User

LANGUAGES = ("en", "zh_CN")
"""The languages the dashboard speaks (Babel locale names), English first."""


def preferences(username: str) -> dict[str, str | None]:
    """{locale, time_zone} of the active user ``username``; None where they follow the browser."""
    with session_scope(read_only=True) as session:
        user = session.scalar(select(User).where(User.id == actor_of(session, username).id))
        assert user is not None  # actor_of found them
        return {"locale": user.locale, "time_zone": user.time_zone}


def set_preferences(username: str, *, locale: Any, time_zone: Any) -> dict[str, str | None]:
    """Keeps the user's language and time zone (each None to follow the browser again)."""
    chosen = {"locale": check_locale(locale), "time_zone": check_time_zone(time_zone)}
    with session_scope() as session:
        user = session.get(User, actor_of(session, username).id)
        assert user is not None
        user.locale, user.time_zone = chosen["locale"], chosen["time_zone"]
    return chosen


def check_locale(locale: Any) -> str | None:
    locale = inputs.optional_text(locale, "The language", limit=20, single_line=True)
    if locale is not None and locale not in LANGUAGES:
        raise InvalidInput("Unknown language {locale!r}: use one of {languages}.", locale=locale,
                           languages=", ".join(LANGUAGES))
    return locale


def check_time_zone(time_zone: Any) -> str | None:
    """An IANA time zone name ("Asia/Shanghai"), or None."""
    time_zone = inputs.optional_text(time_zone, "The time zone", limit=64, single_line=True)
    if time_zone is None:
        return None
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("Unknown time zone {time_zone!r}: use an IANA name such as Asia/Shanghai.",
                           time_zone=time_zone) from None
    return time_zone
