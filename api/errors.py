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
        "field_zh": FIELD_ZH.get(problem.field or "", problem.field),
        "who": problem.who,
        "value": problem.value,
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


# What a person reads for the fields a request names, and for pydantic's error types.
FIELD_ZH = {
    "name": "姓名", "id_number": "身份证号码", "phone": "手机号", "township_id": "乡镇编号", "factory_id": "企业编号",
    "earliest_date": "最早出发日期", "report_date": "报到日期", "group_id": "同行组", "registered_poor": "脱贫人口标记",
    "traveller_id": "旅客编号", "traveller_ids": "旅客", "date": "日期", "dates": "日期", "from": "开始日期",
    "to": "结束日期", "time_limit": "计算时限", "ticket_code": "票号", "amount": "金额", "number": "票据号",
    "note": "意见", "reason": "原因", "role": "角色", "scope": "单位", "label": "说明", "days": "天数",
    "username": "用户名", "password": "密码", "display_name": "姓名", "seats": "座位数", "count": "数量",
    "fixed_cost": "固定费用", "cost_per_km": "每公里费用", "lat": "纬度", "lon": "经度", "city": "城市",
    "province": "省份", "receive_from": "接收开始时间", "receive_until": "接收结束时间", "vehicle_type": "车型",
    "bus_id": "车号", "escort_name": "随车人员", "escort_phone": "随车人员电话", "format": "格式", "status": "状态",
    "file": "文件", "boarded": "已上车名单", "no_shows": "未到名单", "exceptions": "例外名单", "outcome": "情况",
}  # fmt: skip
ERROR_ZH = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为是或否",
    "bool_type": "须为是或否",
    "string_type": "须为文字",
    "date_parsing": "须为日期（如 2026-02-20）",
    "date_from_datetime_parsing": "须为日期（如 2026-02-20）",
    "date_type": "须为日期（如 2026-02-20）",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "literal_error": "须为以下之一：{expected}",
    "enum": "须为以下之一：{expected}",
    "list_type": "须为列表",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "须为对象（JSON）",
    "dict_type": "须为对象（JSON）",
    "string_pattern_mismatch": "格式不对",
    "extra_forbidden": "不认识这一项",
    "finite_number": "须为有限的数字",
}


def validation_zh(error: dict[str, Any]) -> str:
    """One of pydantic's errors as a person reads it: "姓名：必填", "金额：须大于 0"."""
    place = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = "·".join(FIELD_ZH.get(p, p) for p in place) or "请求"
    kind = error.get("type", "")
    if kind == "value_error":  # our own checks say it in both languages, "English / 中文"
        text = str(error.get("msg", ""))
        return f"{field}：{text.split(' / ', 1)[-1].removeprefix('Value error, ')}"
    template = ERROR_ZH.get(kind)
    if template is None:
        return f"{field}：格式有误"
    try:
        return f"{field}：{template.format(**(error.get('ctx') or {}))}"
    except (KeyError, IndexError):
        return f"{field}：{template.split('（')[0].split('：')[0]}"


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
        where_zh = "；".join(validation_zh(e) for e in err.errors()[:10])
        return _body(422, f"invalid request: {where}", f"请求内容有误：{where_zh}", errors=errors)

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
