"""Every error the service answers is JSON: ``{"detail": English, "detail_zh": 中文, ...}``.

422 for bad input (with the same per-row problems as the command line), 409 for conflicts,
401 without a valid token, 404 for anything out of the caller's scope.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from scheduler.policy import InvalidPolicy
from scheduler.validation import InvalidScenario, ScenarioProblem, forbidden_character

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error answer: the message in English and Chinese, and for bad input what was wrong."""

    model_config = ConfigDict(extra="allow")
    detail: str
    detail_zh: str
    # A request that does not fit the schema: where and what (pydantic's loc, message and type).
    errors: list[dict[str, Any]] | None = None
    # Rows of a file or form that break the scenario rules (the first 500), with counts.
    problems: list[dict[str, Any]] | None = None
    problem_count: int | None = None
    problems_by_field: dict[str, int] | None = None
    bad_rows: int | None = None


# Documented for every operation, so that the OpenAPI document says what the service answers.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "the body could not be read (not JSON, or broken multipart)"),
        (401, "no valid token or session"),
        (403, "the caller's role may not do this"),
        (404, "not found, or outside the caller's scope"),
        (405, "method not allowed (Allow names those that are)"),
        (409, "conflicts with data saved meanwhile"),
        (413, "the upload is too large"),
        (422, "invalid input: the fields or rows that are wrong"),
        (429, "too many failed sign-ins from this address (Retry-After)"),
        (503, "the database is busy; retry"),
    )
}


class ApiError(Exception):
    """An error a client caused (or may retry), with its status and messages in English and Chinese."""

    def __init__(
        self, status: int, message: str, message_zh: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.message_zh = message_zh
        self.headers = headers or {}
        self.extra = extra


def not_found(what: str, what_zh: str) -> ApiError:
    return ApiError(404, f"{what} not found", f"未找到{what_zh}")


def conflict(message: str, message_zh: str, **extra: Any) -> ApiError:
    return ApiError(409, message, message_zh, **extra)


def bad_input(message: str, message_zh: str, **extra: Any) -> ApiError:
    return ApiError(422, message, message_zh, **extra)


def problem_dict(problem: ScenarioProblem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "row": problem.row,
        "field": problem.field,
        "message": problem.message,
        "message_zh": problem.message_zh,
    }


# A file of junk has a million problems; the clerk needs the first few hundred and how many there are of each.
MAX_PROBLEMS_LISTED = 500


def problem_summary(err: InvalidScenario) -> dict[str, Any]:
    """The first ``MAX_PROBLEMS_LISTED`` problems, how many there are, and how many per column."""
    return {
        "problems": [problem_dict(p) for p in err.problems[:MAX_PROBLEMS_LISTED]],
        "problem_count": err.count,
        "problems_by_field": err.by_field,
        "bad_rows": err.bad_rows,
    }


def invalid_rows(err: InvalidScenario) -> ApiError:
    n = err.count
    shown = min(n, MAX_PROBLEMS_LISTED)
    return ApiError(
        422,
        f"{n} problem(s) found (the first {shown} listed); nothing was saved",
        f"发现 {n} 处问题（列出前 {shown} 处），未保存任何数据",
        **problem_summary(err),
    )


def _body(status: int, message: str, message_zh: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": message, "detail_zh": message_zh, **extra}, status_code=status)


_STATUS_ZH = {
    400: "请求有误",
    401: "需要有效的访问令牌",
    403: "无权访问",
    404: "未找到",
    405: "不支持该请求方法",
    409: "数据冲突",
    413: "上传文件过大",
    422: "输入有误",
    429: "尝试次数过多，请稍后再试",
}


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette's own Allow names only the first route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install_url_guard(app: FastAPI) -> None:
    """422 for a path or query holding a control character, before any route sees it (bodies are checked by
    api.models.Input): PostgreSQL cannot compare text with NUL, and no id or filter needs one."""

    @app.middleware("http")
    async def _refuse_control_characters(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        code = forbidden_character(unquote(request.url.path)) or forbidden_character(unquote_plus(request.url.query))
        if code:
            return _body(
                422,
                f"the address holds a control character ({code})",
                f"请求地址中含有不可见的控制字符（{code}）",
            )
        return await call_next(request)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        response = _body(err.status, err.message, err.message_zh, **err.extra)
        if err.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        response.headers.update(err.headers)
        return response

    @app.exception_handler(InvalidScenario)
    async def _invalid_scenario(_request: Request, err: InvalidScenario) -> JSONResponse:
        api = invalid_rows(err)
        return _body(api.status, api.message, api.message_zh, **api.extra)

    @app.exception_handler(InvalidPolicy)
    async def _invalid_policy(_request: Request, err: InvalidPolicy) -> JSONResponse:
        return _body(422, str(err), f"县政策设置有误：{err}")

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, err: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in err.errors()
        ]
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['message']}" for e in errors[:10])
        return _body(422, f"invalid request: {where}", f"请求内容有误：{where}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        message = err.detail if isinstance(err.detail, str) else str(err.detail)
        response = _body(err.status_code, message, _STATUS_ZH.get(err.status_code, "请求失败"))
        response.headers.update(err.headers or {})
        if err.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, err: IntegrityError) -> JSONResponse:
        log.info("integrity conflict: %s", err.orig)
        return _body(
            409,
            "the change conflicts with data saved meanwhile; reload and retry",
            "与其他用户同时提交的数据冲突，请刷新后重试",
        )

    @app.exception_handler(OperationalError)
    async def _operational(_request: Request, err: OperationalError) -> JSONResponse:
        log.warning("database busy: %s", err.orig)
        return _body(503, "the database is busy; retry in a moment", "数据库繁忙，请稍后重试")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _body(500, "internal error; the request was not applied", "服务器内部错误，本次请求未生效")
