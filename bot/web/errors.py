"""One place that maps errors to HTTP responses: an HTML page on the officers' dashboard, JSON
everywhere else (the API, webhooks and the Rasa routes).

Error bodies never echo the request: workers' messages are personal data.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from .. import dashboard
from ..dashboard import error_pages
from ..errors import APIError
from ..nlu.model import ModelError
from ..rasa.dialogue import RasaUnavailable
from ..storage import DatabaseUnavailable

logger = logging.getLogger(__name__)

MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần đăng nhập hoặc mã truy cập hợp lệ.",
    403: "Không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy.",
    405: "Phương thức không được hỗ trợ.",
    413: "Dữ liệu gửi lên quá lớn.",
    415: "Cần gửi dữ liệu dạng JSON.",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau.",
    500: "Lỗi hệ thống, vui lòng thử lại sau.",
    503: "Dịch vụ tạm thời chưa sẵn sàng.",
}


def error_response(status: int, code: str, message: str | None = None):
    response = jsonify({"error": code, "message": message or MESSAGES.get(status, "Lỗi.")})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError):
        response = error_response(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers or {})
        return response

    @app.errorhandler(ModelError)
    def _model_error(exc: ModelError):
        logger.error("model unavailable: %s", exc)
        return error_response(503, "model_unavailable", str(exc))

    @app.errorhandler(DatabaseUnavailable)
    def _database_down(exc: DatabaseUnavailable):
        # Nothing was stored: a platform that gets 503 delivers the webhook again later.
        logger.error("%s", exc)
        if dashboard.serves(request.path):
            return error_pages.render(ServiceUnavailable())
        response = error_response(503, "database_unavailable", MESSAGES[503])
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(RasaUnavailable)
    def _rasa_down(exc: RasaUnavailable):
        # BOT_ENGINE=rasa, answering in the request (REST channel): the message is stored and retried.
        logger.warning("%s", exc)
        response = error_response(503, "rasa_unavailable", "Tin nhắn đã được lưu; bot sẽ trả lời khi máy chủ Rasa hoạt động trở lại.")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code in (301, 302, 303, 307, 308):
            return exc
        if dashboard.serves(request.path):
            return error_pages.render(exc)
        return error_response(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), MESSAGES.get(exc.code or 500))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        logger.exception("unhandled error")
        if dashboard.serves(request.path):
            return error_pages.render(InternalServerError())
        return error_response(500, "internal_error")
