"""Error pages for officers, in the dashboard's look (the API, webhooks and Rasa routes answer errors in JSON).

Like the JSON errors, a page never echoes the request.
"""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException

TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Thao tác không được hỗ trợ",
    413: "Dữ liệu gửi lên quá lớn",
    500: "Hệ thống đang gặp lỗi",
}
EXPLANATIONS = {
    400: "Yêu cầu gửi lên không hợp lệ. Vui lòng tải lại trang rồi thử lại.",
    403: "Tài khoản của bạn không có quyền mở trang này. Nếu cần, hãy liên hệ quản trị viên.",
    404: "Trang hoặc phiếu bạn tìm không tồn tại. Vui lòng kiểm tra lại đường dẫn hoặc mã phiếu.",
    405: "Trang này không nhận thao tác vừa thực hiện. Vui lòng quay lại và dùng các nút trên trang.",
    413: "Nội dung gửi lên vượt quá giới hạn cho phép. Vui lòng rút gọn rồi gửi lại.",
    500: "Đã xảy ra lỗi ngoài dự kiến. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, hãy báo quản trị viên.",
}
OTHER_TITLE = "Không thực hiện được yêu cầu"
OTHER_EXPLANATION = "Vui lòng thử lại sau ít phút."


def render(exc: HTTPException):
    status = exc.code or 500
    # The dashboard's own aborts explain themselves in Vietnamese (a failed CSRF check, a malformed
    # date); werkzeug's stock descriptions are English, so those give way to ours.
    own = exc.description if exc.description != type(exc).description else None
    page = render_template("dashboard/error.html", status=status, title=TITLES.get(status, OTHER_TITLE),
                           explanation=own or EXPLANATIONS.get(status, OTHER_EXPLANATION))
    return page, status
