"""Unit commands of ``python -m bot``: the unit tree, pages and OAs, memberships, secrets.

Registered on ``bot.cli.main`` (imported at the end of bot/cli.py); the work is in ``bot/units.py``.
Secrets are read from stdin (``FIELD=value`` lines) or asked without echo, never taken from the
command line (it would stay in the shell history), and printed only masked.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from .cli import _Context, _db, _err, main, pass_ctx

CONTACT_OPTIONS = (
    ("hotline", "--hotline", "Số đường dây nóng, {hotline}."),
    ("address", "--address", "Địa chỉ trụ sở, {address}."),
    ("office_hours", "--office-hours", "Giờ làm việc, {office_hours}."),
    ("fanpage_url", "--fanpage-url", "Liên kết fanpage, {fanpage_url}."),
    ("zalo_url", "--zalo-url", "Liên kết Zalo OA, {zalo_url}."),
)


def _contact_options(fn):
    for key, flag, help_text in reversed(CONTACT_OPTIONS):
        fn = click.option(flag, key, default=None, help=help_text + " Bỏ trống (\"\") để dùng của đơn vị cấp trên.")(fn)
    return fn


@contextmanager
def _units_session(ctx: _Context, write: bool = True):
    """A session on the migrated database; UnitError and key errors become a Vietnamese message."""
    from .secretbox import SecretsKeyError
    from .units import UnitError

    try:
        with _db(ctx.settings) as db, (db.session() if write else db.read()) as s:
            yield s
    except (UnitError, SecretsKeyError) as exc:
        raise click.ClickException(str(exc)) from None


def _box(ctx: _Context):
    from .secretbox import SecretBox

    return SecretBox.from_settings(ctx.settings)


@main.group()
def units():
    """Các đơn vị công đoàn (cây đơn vị), trang Facebook/OA Zalo của từng đơn vị và cán bộ thuộc đơn vị."""


@units.command("new-key")
def units_new_key():
    """In một khóa mới cho SECRETS_KEY (mã hóa các mã truy cập, khóa bí mật của trang/OA)."""
    from .secretbox import generate_key

    click.echo(generate_key())


@units.command("add")
@click.argument("name")
@click.option("--short", "short_name", required=True, help="Tên viết tắt, {org_short_name}.")
@click.option("--parent", "parent_id", type=int, default=None, help="Mã đơn vị cấp trên (mặc định: đơn vị gốc).")
@_contact_options
@pass_ctx
def units_add(ctx: _Context, name, short_name, parent_id, **contact):
    """Thêm đơn vị (mặc định trực thuộc đơn vị gốc)."""
    from . import units as unit_ops

    with _units_session(ctx) as s:
        unit = unit_ops.create_unit(s, name, short_name, parent_id, **contact)
        label = f"{unit.id}: {unit.name} ({unit.short_name})"
    click.echo(f"Đã thêm đơn vị {label}.")


@units.command("list")
@pass_ctx
def units_list(ctx: _Context):
    """Liệt kê cây đơn vị: mã, tên, đường dây nóng, số trang/OA và số câu hỏi đang mở."""
    from sqlalchemy import func, select

    from . import units as unit_ops
    from .storage.models import Ticket, UnitAccount

    with _units_session(ctx) as s:
        unit_ops.root_unit(s, ctx.settings)
        rows = unit_ops.all_units(s)
        accounts = dict(s.execute(select(UnitAccount.unit_id, func.count(UnitAccount.id)).group_by(UnitAccount.unit_id)).all())
        open_tickets = dict(s.execute(select(Ticket.unit_id, func.count(Ticket.id))
                                      .where(Ticket.status.in_(unit_ops.OPEN_STATUSES)).group_by(Ticket.unit_id)).all())
        children = unit_ops.children_map(s)
        by_id = {u.id: u for u in rows}
        context = {u.id: unit_ops.placeholders(s, u.id, ctx.settings) for u in rows}

    def walk(unit_id: int, depth: int):
        u = by_id[unit_id]
        click.echo(f"{'  ' * depth}{u.id:>4}  {u.short_name} — {u.name}  | đường dây nóng: {context[u.id]['hotline']}"
                   f"  | trang/OA: {accounts.get(u.id, 0)}  | câu hỏi đang mở: {open_tickets.get(u.id, 0)}")
        for child in sorted(children.get(unit_id, [])):
            walk(child, depth + 1)

    for root_id in sorted(children.get(None, [])):
        walk(root_id, 0)


@units.command("set")
@click.argument("unit_id", type=int)
@click.option("--name", default=None, help="Tên đầy đủ, {org_name}.")
@click.option("--short", "short_name", default=None, help="Tên viết tắt, {org_short_name}.")
@click.option("--parent", "parent_id", type=int, default=None, help="Chuyển sang đơn vị cấp trên khác (không được tạo vòng).")
@_contact_options
@pass_ctx
def units_set(ctx: _Context, unit_id, **changes):
    """Sửa thông tin một đơn vị (chỉ những trường được nêu)."""
    from . import units as unit_ops

    with _units_session(ctx) as s:
        unit = unit_ops.update_unit(s, unit_id, **changes)
        label = f"{unit.id}: {unit.name} ({unit.short_name})"
    click.echo(f"Đã cập nhật đơn vị {label}.")


@units.command("delete")
@click.argument("unit_id", type=int)
@pass_ctx
def units_delete(ctx: _Context, unit_id):
    """Xóa một đơn vị không còn câu hỏi đang mở, đơn vị cấp dưới hay trang/OA (câu hỏi cũ chuyển về cấp trên)."""
    from . import units as unit_ops

    with _units_session(ctx) as s:
        unit_ops.delete_unit(s, unit_id)
    click.echo(f"Đã xóa đơn vị số {unit_id}.")


@units.command("rotate-secrets")
@pass_ctx
def units_rotate_secrets(ctx: _Context):
    """Mã hóa lại mọi khóa bí mật đã lưu bằng SECRETS_KEY hiện tại (khóa cũ đặt trong SECRETS_KEY_OLD)."""
    from . import units as unit_ops

    with _units_session(ctx) as s:
        count = unit_ops.rotate_secrets(s, _box(ctx))
    click.echo(f"Đã mã hóa lại {count} khóa bí mật bằng khóa mới. Có thể bỏ SECRETS_KEY_OLD.")


# --- accounts (pages, OAs) -------------------------------------------------------------------------


def _read_secrets(channel: str, from_stdin: bool, ask: bool) -> dict:
    from .units import SECRET_FIELDS, SECRET_LABELS

    allowed = SECRET_FIELDS[channel]
    values: dict = {}
    if from_stdin:
        for line in sys.stdin.read().splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or key not in allowed:
                raise click.ClickException(f"Dòng không hợp lệ trong stdin (cần TRƯỜNG=giá trị, trường là một trong: {', '.join(allowed)}).")
            values[key] = value.strip()
    elif ask:
        for key in allowed:
            value = click.prompt(f"{SECRET_LABELS[key].capitalize()} (bỏ trống nếu không có)", default="", hide_input=True,
                                 show_default=False)
            if value:
                values[key] = value
    return values


@units.group("account")
def units_account():
    """Trang Facebook (Messenger) và OA Zalo của các đơn vị."""


@units_account.command("add")
@click.argument("channel", type=click.Choice(["messenger", "zalo"]))
@click.argument("external_id")
@click.option("--unit", "unit_id", type=int, required=True, help="Mã đơn vị sở hữu trang/OA.")
@click.option("--name", default=None, help="Tên trang/OA (để cán bộ nhận ra).")
@click.option("--app-id", default=None, help="Zalo: mã ứng dụng (dùng để kiểm chữ ký webhook).")
@click.option("--public-replies/--no-public-replies", default=True, show_default=True,
              help="Messenger: trả lời công khai dưới bình luận trên trang.")
@click.option("--secrets-stdin", is_flag=True, help="Đọc khóa bí mật từ stdin, mỗi dòng TRƯỜNG=giá trị, thay vì hỏi.")
@pass_ctx
def units_account_add(ctx: _Context, channel, external_id, unit_id, name, app_id, public_replies, secrets_stdin):
    """Thêm trang Facebook (mã trang) hoặc OA Zalo (mã OA) cho một đơn vị.

    \b
    Messenger: page_access_token, app_secret (bỏ trống: dùng FACEBOOK_APP_SECRET), verify_token.
    Zalo: oa_secret_key, app_secret, access_token, refresh_token.
    """
    from . import units as unit_ops

    secrets = _read_secrets(channel, secrets_stdin, ask=True)
    with _units_session(ctx) as s:
        account = unit_ops.add_account(s, _box(ctx), channel, external_id, unit_id, name=name, app_id=app_id,
                                       public_replies=public_replies, **secrets)
        masked = unit_ops.masked_secrets(_box(ctx), account)
    click.echo(f"Đã thêm {channel} {external_id} cho đơn vị số {unit_id}. " + ", ".join(f"{k}: {v}" for k, v in masked.items()))


@units_account.command("set")
@click.argument("channel", type=click.Choice(["messenger", "zalo"]))
@click.argument("external_id")
@click.option("--unit", "unit_id", type=int, default=None, help="Chuyển trang/OA sang đơn vị khác.")
@click.option("--name", default=None, help="Tên trang/OA.")
@click.option("--app-id", default=None, help="Zalo: mã ứng dụng.")
@click.option("--public-replies/--no-public-replies", default=None, help="Messenger: bật/tắt trả lời công khai dưới bình luận.")
@click.option("--active/--inactive", default=None, help="Bật/tắt trang/OA (tắt: tin nhắn đến bị bỏ qua).")
@click.option("--secrets-stdin", is_flag=True, help="Đổi khóa bí mật: đọc từ stdin, mỗi dòng TRƯỜNG=giá trị (giá trị rỗng: xóa).")
@pass_ctx
def units_account_set(ctx: _Context, channel, external_id, unit_id, name, app_id, public_replies, active, secrets_stdin):
    """Sửa một trang/OA; khóa bí mật chỉ đổi khi có --secrets-stdin."""
    from . import units as unit_ops

    secrets = _read_secrets(channel, secrets_stdin, ask=False)
    with _units_session(ctx) as s:
        account = unit_ops.find_account(s, channel, external_id)
        if account is None:
            raise click.ClickException(f"Không có tài khoản {channel} với mã {external_id}.")
        unit_ops.update_account(s, _box(ctx), account, unit_id=unit_id, name=name, app_id=app_id, public_replies=public_replies,
                                active=active, **secrets)
    click.echo(f"Đã cập nhật {channel} {external_id}.")


@units_account.command("list")
@click.option("--unit", "unit_id", type=int, default=None, help="Chỉ các trang/OA của đơn vị này.")
@pass_ctx
def units_account_list(ctx: _Context, unit_id):
    """Liệt kê trang/OA (khóa bí mật chỉ hiện 4 ký tự cuối)."""
    from sqlalchemy import select

    from . import units as unit_ops
    from .storage.models import UnitAccount

    lines = []
    with _units_session(ctx, write=False) as s:
        stmt = select(UnitAccount).order_by(UnitAccount.unit_id, UnitAccount.channel, UnitAccount.external_id)
        if unit_id is not None:
            stmt = stmt.where(UnitAccount.unit_id == unit_id)
        for a in s.scalars(stmt):
            masked = unit_ops.masked_secrets(_box(ctx), a)
            flags = ("đang bật" if a.active else "đã tắt") + ("" if a.channel != "messenger" or a.public_replies else ", không trả lời công khai")
            lines.append(f"{a.channel:<9} {a.external_id:<20} đơn vị {a.unit_id:<4} {a.name or '':<25} {flags}  "
                         + ", ".join(f"{k}: {v}" for k, v in masked.items()))
    if not lines:
        _err("Chưa có trang/OA nào: bot dùng cấu hình FACEBOOK_*/ZALO_* chung. Thêm bằng: python -m bot units account add ...")
    for line in lines:
        click.echo(line)


# --- memberships ---------------------------------------------------------------------------------


@units.group("member")
def units_member():
    """Cán bộ thuộc đơn vị nào, với vai trò gì (officer: xử lý câu hỏi; admin: quản trị đơn vị)."""


def _officer(s, email):
    from .handoff import officers as officer_ops

    officer = officer_ops.by_email(s, email)
    if officer is None:
        raise click.ClickException(f"Không có cán bộ với e-mail {email}.")
    return officer


@units_member.command("add")
@click.argument("email")
@click.option("--unit", "unit_id", type=int, required=True, help="Mã đơn vị.")
@click.option("--role", type=click.Choice(["officer", "admin"]), default="officer", show_default=True, help="Vai trò trong đơn vị.")
@pass_ctx
def units_member_add(ctx: _Context, email, unit_id, role):
    """Cho cán bộ vào một đơn vị (hoặc đổi vai trò của họ trong đơn vị đó)."""
    from . import units as unit_ops

    with _units_session(ctx) as s:
        unit_ops.add_member(s, _officer(s, email), unit_id, role)
    click.echo(f"Cán bộ {email} thuộc đơn vị số {unit_id} với vai trò {role}.")


@units_member.command("remove")
@click.argument("email")
@click.option("--unit", "unit_id", type=int, required=True, help="Mã đơn vị.")
@pass_ctx
def units_member_remove(ctx: _Context, email, unit_id):
    """Đưa cán bộ ra khỏi một đơn vị."""
    from . import units as unit_ops

    with _units_session(ctx) as s:
        unit_ops.remove_member(s, _officer(s, email), unit_id)
    click.echo(f"Cán bộ {email} không còn thuộc đơn vị số {unit_id}.")


@units_member.command("list")
@click.option("--unit", "unit_id", type=int, default=None, help="Chỉ cán bộ của đơn vị này.")
@pass_ctx
def units_member_list(ctx: _Context, unit_id):
    """Liệt kê cán bộ theo đơn vị."""
    from sqlalchemy import select

    from .storage.models import Officer, Unit, UnitMember

    with _units_session(ctx, write=False) as s:
        stmt = (select(Unit.id, Unit.short_name, Officer.email, UnitMember.role).join(UnitMember, UnitMember.unit_id == Unit.id)
                .join(Officer, Officer.id == UnitMember.officer_id).order_by(Unit.id, Officer.email))
        if unit_id is not None:
            stmt = stmt.where(Unit.id == unit_id)
        rows = s.execute(stmt).all()
    if not rows:
        _err("Chưa có cán bộ nào được gán đơn vị (cán bộ không thuộc đơn vị nào được coi là thuộc đơn vị gốc).")
    for uid, short, email, role in rows:
        click.echo(f"{uid:>4}  {short:<20} {email:<35} {role}")
