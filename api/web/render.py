"""Rendering a page: the templates, the reader's language, and what every template may use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import Caller
from api.web.auth import LANG_COOKIE
from api.web.i18n import LANGS, MODES, job_status, role_label, translator, vehicle
from scheduler.clock import moment_zh

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGS else "zh"


def render(request: Request, name: str, caller: Caller | None, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": translator(lang),
            "caller": caller,
            "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "modes": MODES,
            "job_status": job_status,
            "role_label": role_label,
            "vehicle": vehicle,
            "people_time": moment_zh,
            **context,
        },
    )
