"""Jinja2 templates (autoescaped) and the filters every page uses: money, practice-time dates, plain words."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from worker.clock import aware

TEMPLATES = Path(__file__).parent / "templates"
DEPARTMENT_WORDS = {
    "billing": "Billing",
    "coding": "Coding",
    "front_desk": "Front desk",
    "credentialing": "Credentialing",
    "it": "IT",
    "admin": "Admin",
}


def make_templates(tz: ZoneInfo) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.autoescape = True  # every template, whatever its extension: patient names are text, never markup
    env.filters["money"] = money
    env.filters["local"] = lambda moment, fmt="%Y-%m-%d %H:%M": local_time(moment, tz, fmt)
    env.filters["day"] = day
    env.filters["department"] = department
    env.globals["timezone_name"] = str(tz)
    return templates


def money(amount: Decimal | float | int | None) -> str:
    if amount is None:
        return "—"
    value = Decimal(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def local_time(moment: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the practice's clock shows it."""
    if moment is None:
        return "—"
    return aware(moment).astimezone(tz).strftime(fmt)


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def department(name: str | None) -> str:
    if not name:
        return "—"
    return DEPARTMENT_WORDS.get(name, name.replace("_", " ").capitalize())


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A template with the logged-in staff member (if any) and their CSRF token in its context."""
    templates: Jinja2Templates = request.app.state.templates
    staff = getattr(request.state, "staff", None)
    context.setdefault("staff", staff)
    context.setdefault("csrf_token", staff.csrf_token if staff else "")
    return templates.TemplateResponse(request, template, context, status_code=status_code)
