"""Personal-data commands of ``python -m bot``: purge, person export/delete, backup.

Registered on ``bot.cli.main`` (imported at the end of bot/cli.py); the work is in ``bot/privacy.py``,
imported inside the commands so that ``python -m bot --help`` loads no database code.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import _Context, _db, _err, main, pass_ctx

TABLE_LABELS = {
    "messages": "tin nhắn trong lịch sử trò chuyện",
    "ticket_notes": "ghi chú nội bộ",
    "tickets": "phiếu hỏi",
    "tickets_closed": "phiếu đang mở đã đóng",
    "inbox_events": "tin nhắn đến (hàng đợi)",
    "outbox_messages": "tin trả lời (hàng đợi)",
    "conversations": "cuộc trò chuyện",
}


def _print_counts(counts: dict) -> None:
    for table, n in counts.items():
        click.echo(f"  {n:>7}  {TABLE_LABELS.get(table, table)}")


@main.command()
@click.option("--older-than", "older_than", type=click.IntRange(min=1), required=True, metavar="SỐ_NGÀY",
              help="Xóa/ẩn danh dữ liệu cũ hơn số ngày này (thường bằng RETENTION_DAYS).")
@click.option("--dry-run", is_flag=True, help="Chỉ đếm, không thay đổi gì.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON ra stdout.")
@pass_ctx
def purge(ctx: _Context, older_than, dry_run, as_json):
    """Xóa nội dung tin nhắn và ẩn danh phiếu hỏi đã đóng quá thời hạn lưu trữ.

    Phiếu đang mở và dữ liệu mới hơn thời hạn không bị động đến; số liệu báo cáo được giữ nguyên.
    Chạy lại nhiều lần cũng không sao. Máy chủ tự chạy việc này mỗi ngày khi RETENTION_DAYS > 0.
    """
    from . import privacy

    with _db(ctx.settings) as db:
        result = privacy.purge(db, older_than, dry_run=dry_run, actor="cli")
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    head = "Sẽ xóa/ẩn danh (chạy thử, chưa thay đổi gì)" if dry_run else "Đã xóa/ẩn danh"
    click.echo(f"{head} dữ liệu trước {result.cutoff:%d/%m/%Y %H:%M} (UTC):")
    _print_counts(result.counts)


@main.group()
def person():
    """Dữ liệu của một người lao động: xuất bản sao, xóa theo yêu cầu."""


_channel = click.option("--channel", required=True, help="Kênh: messenger, zalo hoặc web (trò chuyện trên trang web và REST).")
_user = click.option("--user", "user_id", required=True, help="Mã người dùng trên kênh đó (PSID Messenger, user id Zalo…).")


@person.command("export")
@_channel
@_user
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Ghi vào tệp JSON này thay vì in ra stdout.")
@click.option("--actor", default="cli", show_default=True, help="E-mail cán bộ thực hiện (ghi vào nhật ký kiểm tra).")
@pass_ctx
def person_export(ctx: _Context, channel, user_id, out, actor):
    """Xuất toàn bộ dữ liệu lưu về một người lao động (JSON): trò chuyện, tin nhắn, phiếu hỏi, phản hồi."""
    from . import privacy

    try:
        with _db(ctx.settings) as db:
            data = privacy.export_person(db, channel, user_id, actor=actor)
    except privacy.PersonNotFound as exc:
        raise click.ClickException(str(exc)) from None
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not out:
        click.echo(text)
        return
    try:
        Path(out).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Không ghi được tệp {out}: {exc.strerror or exc}") from None
    _err(f"Đã xuất {len(data['messages'])} tin nhắn, {len(data['tickets'])} phiếu hỏi vào {out}.")


@person.command("delete")
@_channel
@_user
@click.option("--actor", required=True, help="E-mail cán bộ thực hiện (ghi vào nhật ký kiểm tra).")
@click.option("--yes", is_flag=True, help="Không hỏi xác nhận.")
@pass_ctx
def person_delete(ctx: _Context, channel, user_id, actor, yes):
    """Xóa dữ liệu của một người lao động theo yêu cầu của họ.

    Phiếu đang mở được đóng với lý do "Người lao động yêu cầu xóa dữ liệu"; nội dung tin nhắn,
    câu hỏi, ghi chú và tên được xóa; số liệu báo cáo giữ nguyên. Không thể hoàn tác.
    """
    from . import privacy

    if not yes:
        click.confirm(f"Xóa toàn bộ dữ liệu của người dùng {user_id} trên kênh {channel}? Không thể hoàn tác", abort=True)
    try:
        with _db(ctx.settings) as db:
            counts = privacy.delete_person(db, channel, user_id, actor)
    except privacy.PersonNotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã xóa dữ liệu của người dùng {user_id} trên kênh {channel}:")
    _print_counts(counts)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True))
@pass_ctx
def backup(ctx: _Context, path):
    """Sao lưu cơ sở dữ liệu SQLite vào tệp PATH, kể cả khi máy chủ đang chạy.

    Khôi phục: dừng máy chủ, chép tệp sao lưu đè lên tệp cơ sở dữ liệu (instance/bot.db), xóa các
    tệp bot.db-wal và bot.db-shm nếu có, rồi khởi động lại. PostgreSQL: dùng pg_dump.
    """
    from . import privacy
    from .storage import Database

    db = Database(ctx.settings["DATABASE_URL"])  # no migration: the copy is of the database as it is
    try:
        target = privacy.backup(db, path)
    except privacy.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"Đã sao lưu vào {target}.")
