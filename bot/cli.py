"""Command line: ``python -m bot COMMAND``.

Progress and messages go to stderr so that ``--json`` output on stdout stays machine-readable.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .config import SETTINGS, Settings
from .knowledge import KnowledgeBase, KnowledgeBaseError
from .nlu.model import ModelError, ModelRegistry, load_model
from .nlu.training_data import TrainingDataError
from .validation import MIN_EXAMPLES, validate_project


def _err(message: str) -> None:
    click.echo(message, err=True)


class _Context:
    def __init__(self, overrides: dict | None = None):
        self.settings = Settings.load(overrides)


pass_ctx = click.make_pass_decorator(_Context, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", is_flag=True, help="Ghi nhật ký chi tiết (debug).")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Trợ lý hỏi đáp pháp luật lao động của Công đoàn: huấn luyện, đánh giá, thử và quản trị.

    \b
    Các lệnh thường dùng:
      python -m bot validate           kiểm tra dữ liệu huấn luyện và FAQ
      python -m bot train              huấn luyện mô hình mới và dùng ngay
      python -m bot ask "câu hỏi"      thử hỏi bot (không lưu gì)
      python -m bot models list        xem các phiên bản mô hình
      python -m bot models use PHIEN_BAN   quay về một phiên bản cũ
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if ctx.obj is None:
        ctx.obj = _Context()


# --- helpers -----------------------------------------------------------------------------------


def _load_model(settings: Settings, model_dir: str | None):
    if model_dir:
        return load_model(model_dir)
    return ModelRegistry(settings["MODELS_DIR"]).load_current()


# --- train -------------------------------------------------------------------------------------


@main.command()
@click.option("--nlu", "nlu_paths", multiple=True, type=click.Path(exists=True),
              help="Chỉ huấn luyện NLU trên các tệp YAML Rasa này (có thể lặp lại). Mặc định: nlu_data/ và faq/.")
@click.option("--out", type=click.Path(file_okay=False), help="Thư mục ghi mô hình. Mặc định: một phiên bản mới trong models/.")
@click.option("--folds", default=5, show_default=True, help="Số phần kiểm định chéo để chọn tham số và ngưỡng.")
@click.option("--no-activate", is_flag=True, help="Không đặt mô hình mới làm mô hình đang dùng.")
@click.option("--no-calibration", is_flag=True, help="Không chọn ngưỡng trả lời trên tệp hiệu chỉnh (CALIBRATION_FILE); dùng ngưỡng từ kiểm định chéo.")
@click.option("-q", "--quiet", is_flag=True, help="Không in tiến trình.")
@pass_ctx
def train(ctx: _Context, nlu_paths, out, folds, no_activate, no_calibration, quiet):
    """Huấn luyện mô hình phân loại ý định.

    Không có tùy chọn: huấn luyện trên nlu_data/ + faq/ thành một phiên bản mới trong models/
    và dùng ngay. Với --nlu: chỉ huấn luyện trên các tệp đã cho (bất kỳ tập ý định nào) vào --out.
    """
    from .training import TrainingError, train_nlu, train_project

    say = (lambda m: None) if quiet else _err
    try:
        if nlu_paths:
            result = train_nlu(ctx.settings, nlu_paths, folds=folds, out=out, progress=say)
        else:
            result = train_project(ctx.settings, folds=folds, calibration=not no_calibration, activate=not no_activate,
                                   out=out, progress=say)
    except (TrainingDataError, KnowledgeBaseError, TrainingError) as exc:
        raise click.ClickException(str(exc)) from None
    cv = result.metadata["metrics"]["cv_accuracy"]
    cv_text = f"{cv:.2%}" if cv is not None else "không đo"
    say(f"Xong sau {result.metadata['train_seconds']} giây. Độ chính xác kiểm định chéo (khi chọn tham số): {cv_text}.")
    say(f"Đã lưu mô hình vào {result.folder}" + (" và đặt làm mô hình đang dùng." if result.activated else "."))
    click.echo(str(result.folder))


# --- evaluate ----------------------------------------------------------------------------------


@main.command()
@click.option("--nlu", "nlu_paths", multiple=True, type=click.Path(exists=True), help="Tệp kiểm tra (YAML Rasa). Bắt buộc trừ khi dùng --cross-validation.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Thư mục mô hình. Mặc định: mô hình đang dùng.")
@click.option("--cross-validation", "cross_validation", is_flag=True, help="Kiểm định chéo lồng nhau trên dữ liệu huấn luyện (hoặc trên các tệp --nlu).")
@click.option("--folds", default=5, show_default=True, help="Số phần khi kiểm định chéo.")
@click.option("--by-topic", is_flag=True,
              help="So sánh theo chủ đề: nhãn topic/<id> trong tệp kiểm tra, dự đoán faq/<id> đổi thành topic/<chủ đề của mục FAQ>.")
@click.option("--json", "as_json", is_flag=True, help="In một đối tượng JSON ra stdout.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), help="Thư mục ghi báo cáo HTML. Mặc định: reports/.")
@pass_ctx
def evaluate(ctx: _Context, nlu_paths, model_dir, cross_validation, folds, by_topic, as_json, report_dir):
    """Đánh giá mô hình: độ chính xác, macro F1, từng ý định, các cặp hay nhầm, báo cáo HTML."""
    from .nlu.evaluation import cross_validate, evaluate_model, write_html_report
    from .training import base_classifier, load_data

    settings = ctx.settings
    say = (lambda m: None) if as_json else _err
    if not nlu_paths and not cross_validation:
        raise click.UsageError("Cần --nlu TỆP_KIỂM_TRA, hoặc --cross-validation.")
    try:
        data = load_data(settings, nlu_paths)
    except (TrainingDataError, KnowledgeBaseError) as exc:
        raise click.ClickException(str(exc)) from None
    if not data.examples:
        raise click.ClickException("Tệp kiểm tra không có câu ví dụ nào.")
    reports = Path(report_dir or settings["REPORTS_DIR"])
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if cross_validation:
        say(f"Kiểm định chéo {folds} phần trên {len(data.examples)} câu (mỗi phần huấn luyện lại từ đầu)…")
        metrics, y_true, y_pred = cross_validate(data.texts, data.intents, folds=folds, base=base_classifier(settings),
                                                 strip=True, progress=say)
        title = f"Kiểm định chéo {folds} phần"
        path = write_html_report(reports / f"cv-{stamp}.html", metrics, y_true, y_pred, title)
    else:
        try:
            model = _load_model(settings, model_dir)
        except ModelError as exc:
            raise click.ClickException(str(exc)) from None
        kb = KnowledgeBase.load(settings["FAQ_DIR"]) if by_topic else None

        def topic_label(label: str) -> str:
            topic = kb.topic_of(label) if kb is not None else None
            return label if topic is None else "topic/" + topic

        say(f"Đánh giá mô hình {model.version} trên {len(data.examples)} câu…")
        metrics, y_true, y_pred = evaluate_model(model, data.texts, data.intents, topic_label)
        title = f"Đánh giá mô hình {model.version}"
        path = write_html_report(reports / f"eval-{stamp}.html", metrics, y_true, y_pred, title)
    metrics["report"] = str(path)
    if as_json:
        click.echo(json.dumps(metrics, ensure_ascii=False))
        return
    click.echo(f"Số câu: {metrics['n']}")
    click.echo(f"Độ chính xác: {metrics['accuracy']:.2%}   Macro F1: {metrics['macro_f1']:.4f}")
    if "stripped" in metrics:
        click.echo(f"Khi bỏ dấu:   {metrics['stripped']['accuracy']:.2%}   Macro F1: {metrics['stripped']['macro_f1']:.4f}")
    worst = sorted(metrics["per_intent"].items(), key=lambda kv: kv[1]["f1"])[:10]
    click.echo("\nÝ định yếu nhất (F1):")
    for name, m in worst:
        click.echo(f"  {m['f1']:.3f}  P={m['precision']:.2f} R={m['recall']:.2f} n={m['support']:<4} {name}")
    if metrics["confused_pairs"]:
        click.echo("\nCặp hay nhầm (đúng → dự đoán):")
        for c in metrics["confused_pairs"][:10]:
            click.echo(f"  {c['count']:>3} × {c['true']} → {c['predicted']}")
    click.echo(f"\nBáo cáo HTML: {path}")


# --- validate ----------------------------------------------------------------------------------


@main.command()
@click.option("--min-examples", default=MIN_EXAMPLES, show_default=True, help="Số câu ví dụ tối thiểu cho mỗi ý định.")
@pass_ctx
def validate(ctx: _Context, min_examples):
    """Kiểm tra dữ liệu huấn luyện, bảng viết tắt, câu trả lời và FAQ; thoát với mã khác 0 nếu có lỗi."""
    result = validate_project(ctx.settings, min_examples=min_examples)
    for w in result.warnings:
        _err(f"Cảnh báo: {w}")
    for e in result.errors:
        _err(f"Lỗi: {e}")
    if result.errors:
        _err(f"\nCó {len(result.errors)} lỗi, {len(result.warnings)} cảnh báo ({result.n_examples} câu ví dụ, {result.n_faq_entries} mục FAQ).")
        sys.exit(1)
    click.echo(f"Dữ liệu hợp lệ: {result.n_examples} câu ví dụ, {result.n_intents} ý định, {result.n_faq_entries} mục FAQ, "
               f"{len(result.warnings)} cảnh báo.")


# --- ask ---------------------------------------------------------------------------------------


@main.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (một dòng mỗi tin nhắn).")
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Thư mục mô hình. Mặc định: mô hình đang dùng.")
@pass_ctx
def ask(ctx: _Context, text, as_json, model_dir):
    """Hỏi thử bot, không lưu gì và không tạo phiếu.

    Dùng "-" để đọc nhiều tin nhắn từ stdin (mỗi dòng một tin, in mỗi dòng một JSON).
    """
    from .engine import Engine

    settings = ctx.settings
    try:
        model = _load_model(settings, model_dir)
        engine = Engine.from_settings(settings, model=model)
    except (ModelError, KnowledgeBaseError) as exc:
        raise click.ClickException(str(exc)) from None
    if text == ("-",):
        for line in sys.stdin:
            turn = engine.ask(line.rstrip("\n"))
            click.echo(json.dumps(turn.to_ask_json(), ensure_ascii=False))
        return
    turn = engine.ask(" ".join(text))
    if as_json:
        click.echo(json.dumps(turn.to_ask_json(), ensure_ascii=False))
        return
    click.echo(turn.text)
    buttons = [b["title"] for m in turn.messages for b in (m.get("buttons") or [])]
    if buttons:
        click.echo("[" + "] [".join(buttons) + "]")
    d = turn.decision
    _err(f"— ý định: {d.intent} ({d.confidence:.2f}), hành động: {d.kind}" + (f", FAQ: {d.faq_id}" if d.faq_id else ""))


# --- models ------------------------------------------------------------------------------------


@main.group()
def models():
    """Xem và chọn phiên bản mô hình (quay lui)."""


@models.command("list")
@pass_ctx
def models_list(ctx: _Context):
    """Liệt kê các phiên bản mô hình; dấu * là mô hình đang dùng."""
    registry = ModelRegistry(ctx.settings["MODELS_DIR"])
    versions = registry.versions()
    if not versions:
        _err(f"Chưa có mô hình nào trong {registry.root}. Hãy chạy: python -m bot train")
        return
    current = registry.current_name()
    for v in versions:
        meta = v["metadata"]
        cv = (meta.get("metrics") or {}).get("cv_accuracy")
        cv_text = f"{cv:.2%}" if isinstance(cv, (int, float)) else "—"
        mark = "*" if v["version"] == current else " "
        click.echo(f"{mark} {v['version']}  {meta.get('trained_at', '?')}  {meta.get('n_examples', '?')} câu  "
                   f"{len(meta.get('intents', {}))} ý định  CV {cv_text}")


@models.command("use")
@click.argument("version")
@pass_ctx
def models_use(ctx: _Context, version):
    """Dùng phiên bản VERSION (ví dụ để quay về mô hình cũ). Máy chủ đang chạy nạp lại trong vài giây."""
    registry = ModelRegistry(ctx.settings["MODELS_DIR"])
    try:
        registry.use(version)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đang dùng mô hình {version}.")


# --- settings ----------------------------------------------------------------------------------


@main.command()
@pass_ctx
def settings(ctx: _Context):
    """In bảng cấu hình: tên, giá trị hiện tại, mô tả (giá trị bí mật được che)."""
    for s in SETTINGS:
        value = ctx.settings[s.name]
        shown = ("***" if value else "") if s.secret else value
        click.echo(f"{s.name:<30} {shown!s:<40} {s.help}")


# --- shell and worker --------------------------------------------------------------------------


@main.command()
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Thư mục mô hình. Mặc định: mô hình đang dùng.")
@click.option("--debug/--no-debug", default=True, show_default=True, help="Hiện ý định, độ tin cậy và hành động sau mỗi câu.")
@pass_ctx
def shell(ctx: _Context, model_dir, debug):
    """Trò chuyện thử với bot trong terminal (giữ ngữ cảnh, không lưu gì, không tạo phiếu).

    Gõ số để bấm nút gợi ý; gõ /exit hoặc Ctrl-D để thoát.
    """
    from .engine import Engine

    try:
        engine = Engine.from_settings(ctx.settings, model=_load_model(ctx.settings, model_dir))
    except (ModelError, KnowledgeBaseError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Trò chuyện với bot. Gõ /exit để thoát.\n")
    slots: dict = {}
    buttons: list[dict] = []
    while True:
        try:
            text = click.prompt("Bạn", prompt_suffix=": ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            break
        if text.strip() in ("/exit", "/quit"):
            break
        if text.strip().isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        turn = engine.respond(text, sender_id="shell", slots=slots)
        slots.update({k: v for k, v in turn.slot_updates().items() if k in ("last_faq_id", "clarify_options", "last_question")})
        buttons = [b for m in turn.messages for b in (m.get("buttons") or [])]
        click.echo(click.style("Bot: ", fg="red", bold=True) + turn.text)
        for i, b in enumerate(buttons, start=1):
            click.echo(f"   [{i}] {b['title']}")
        if debug:
            d = turn.decision
            click.echo(click.style(f"   ({d.intent}, {d.confidence:.2f}, {d.kind}{', ' + d.faq_id if d.faq_id else ''})", dim=True))


@main.command()
@pass_ctx
def worker(ctx: _Context):
    """Chạy tiến trình xử lý tin nhắn và gửi trả lời (dùng với WORKER_MODE=redis, có thể chạy nhiều tiến trình)."""
    import signal
    import threading

    from . import logs
    from .runtime import Runtime, StartupError

    logs.configure(ctx.settings)
    try:
        runtime = Runtime(ctx.settings).prepare(strict=True)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    if int(ctx.settings["METRICS_PORT"]):
        from prometheus_client import start_http_server

        from .metrics import registry_for

        start_http_server(int(ctx.settings["METRICS_PORT"]), addr="127.0.0.1", registry=registry_for(runtime.db))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _err(f"Tiến trình xử lý đang chạy (Redis: {ctx.settings['REDIS_URL']}). Nhấn Ctrl-C để dừng.")
    try:
        runtime.workers.run_forever(stop)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.shutdown()


# --- officers ----------------------------------------------------------------------------------


@contextmanager
def _db(settings: Settings):
    """The database, migrated to the latest schema; disposed of on the way out."""
    from .storage import Database, DatabaseUnavailable

    db = Database(settings["DATABASE_URL"])
    try:
        try:
            db.upgrade()
        except DatabaseUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        yield db
    finally:
        db.dispose()


@main.group()
def officers():
    """Quản lý tài khoản cán bộ công đoàn (bảng điều khiển và API)."""


@officers.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Họ tên cán bộ.")
@click.option("--role", type=click.Choice(["officer", "maintainer", "admin"]), default="officer", show_default=True, help="Vai trò.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin (dòng đầu tiên) thay vì hỏi.")
@click.option("--unit", "unit_id", type=int, default=None, help="Mã đơn vị của cán bộ (xem: python -m bot units list); mặc định đơn vị gốc.")
@pass_ctx
def officers_add(ctx: _Context, email, name, role, password_stdin, unit_id):
    """Thêm cán bộ. Mật khẩu được hỏi (không hiện trên màn hình) hoặc đọc từ stdin."""
    from . import units as unit_ops
    from .handoff import officers as officer_ops

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu")
    try:
        with _db(ctx.settings) as db, db.session() as s:
            officer = officer_ops.create(s, email, name, role, password)
            if unit_id is not None:  # without --unit: no membership, the officer belongs to the root
                unit_ops.add_member(s, officer, unit_id, "admin" if role == "admin" else "officer")
            label = f"{officer.name} <{officer.email}> ({officer.role})"
    except (officer_ops.OfficerError, unit_ops.UnitError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã thêm cán bộ {label}.")


@officers.command("list")
@pass_ctx
def officers_list(ctx: _Context):
    """Liệt kê cán bộ."""
    from sqlalchemy import select

    from .storage.models import Officer

    with _db(ctx.settings) as db, db.read() as s:
        rows = s.scalars(select(Officer).order_by(Officer.email)).all()
    if not rows:
        _err("Chưa có cán bộ nào. Thêm bằng: python -m bot officers add EMAIL --name \"Họ tên\" --role admin")
    for o in rows:
        click.echo(f"{o.email:<35} {o.name:<30} {o.role:<8} {'đang hoạt động' if o.active else 'đã khóa'}")


@officers.command("disable")
@click.argument("email")
@pass_ctx
def officers_disable(ctx: _Context, email):
    """Khóa tài khoản cán bộ (đăng nhập và mã API ngừng hoạt động)."""
    from .handoff import officers as officer_ops

    try:
        with _db(ctx.settings) as db, db.session() as s:
            officer_ops.set_active(s, email, False)
    except officer_ops.OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã khóa tài khoản {email}.")


@officers.command("unlock")
@click.argument("email")
@pass_ctx
def officers_unlock(ctx: _Context, email):
    """Mở khóa đăng nhập cho cán bộ bị khóa do nhập sai mật khẩu nhiều lần (xóa số lần sai)."""
    from .handoff.officers import LoginThrottle

    with _db(ctx.settings) as db:
        LoginThrottle(db, 0, 0).reset(email)
    click.echo(f"Đã mở khóa đăng nhập cho {email}.")


@officers.command("token")
@click.argument("email")
@pass_ctx
def officers_token(ctx: _Context, email):
    """In mã truy cập API mới cho cán bộ (mã cũ hết hiệu lực). Chỉ hiện một lần."""
    from .handoff import officers as officer_ops

    with _db(ctx.settings) as db, db.session() as s:
        officer = officer_ops.by_email(s, email)
        if officer is None or not officer.active:
            raise click.ClickException(f"Không có cán bộ đang hoạt động với e-mail {email}.")
        token = officer_ops.new_token(s, officer)
    click.echo(token)


# --- reports and FAQ suggestions ---------------------------------------------------------------


@main.command()
@click.option("--from", "date_from", help="Ngày bắt đầu YYYY-MM-DD (mặc định: 30 ngày trước).")
@click.option("--to", "date_to", help="Ngày kết thúc YYYY-MM-DD (mặc định: hôm nay).")
@click.option("--grain", type=click.Choice(["day", "week", "month"]), default="day", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True)
@pass_ctx
def report(ctx: _Context, date_from, date_to, grain, fmt):
    """Báo cáo phiếu hỏi: số lượng, tỷ lệ trả lời trong 24 giờ, thời gian phản hồi, bot và cán bộ."""
    from .handoff import reports as report_ops

    try:
        start, end = report_ops.report_range(date_from, date_to)
    except ValueError:
        raise click.BadParameter("ngày phải có dạng YYYY-MM-DD") from None
    with _db(ctx.settings) as db, db.read() as s:
        data = report_ops.sla_report(s, start, end, grain)
    click.echo(report_ops.to_csv(data) if fmt == "csv" else json.dumps(data, ensure_ascii=False, indent=2))


@main.group()
def faq():
    """Công cụ cho kho câu hỏi thường gặp."""


@faq.command("export-suggestions")
@pass_ctx
def faq_export(ctx: _Context):
    """Xuất các đề xuất đã duyệt ra faq/de_xuat.yml và nlu_data/faq_de_xuat.yml để hoàn thiện và huấn luyện."""
    from .handoff.suggestions import export_approved

    with _db(ctx.settings) as db, db.session() as s:
        export = export_approved(s, ctx.settings["FAQ_DIR"], ctx.settings["NLU_DATA_DIR"])
    if not export.count:
        _err("Không có đề xuất nào đã duyệt để xuất.")
        return
    click.echo(f"Đã xuất {export.count} đề xuất vào {export.faq_path} và {export.nlu_path}.")
    _err("Cần bổ sung căn cứ pháp lý và ít nhất 30 câu ví dụ cho mỗi mục, rồi chạy: python -m bot validate && python -m bot train")


@main.command("export")
@click.option("--faq-dir", type=click.Path(file_okay=False), help="Thư mục FAQ cần ghi (mặc định: FAQ_DIR).")
@click.option("--nlu-dir", type=click.Path(file_okay=False), help="Thư mục dữ liệu huấn luyện cần ghi (mặc định: NLU_DATA_DIR).")
@pass_ctx
def export_faq(ctx: _Context, faq_dir, nlu_dir):
    """Ghi nội dung FAQ đã sửa trên trình duyệt (đang áp dụng hôm nay) vào faq/*.yml và câu hỏi mẫu vào nlu_data/.

    Chỉ phần thay đổi được ghi lại; nội dung hẹn ngày áp dụng sau hôm nay chưa được ghi mà chỉ được liệt kê.
    """
    from .faq_export import ExportError, export
    from .vntime import today

    settings = Settings(ctx.settings)
    if faq_dir:
        settings["FAQ_DIR"] = faq_dir
    if nlu_dir:
        calibration = Path(settings["CALIBRATION_FILE"])
        if calibration.resolve().parent == Path(settings["NLU_DATA_DIR"]).resolve():  # the copy's own calibration file
            settings["CALIBRATION_FILE"] = str(Path(nlu_dir) / calibration.name)
        settings["NLU_DATA_DIR"] = nlu_dir
    try:
        with _db(settings) as db, db.read() as s:
            result = export(s, settings, today(), progress=_err)
    except (ExportError, KnowledgeBaseError, TrainingDataError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.changed:
        click.echo(f"Đã xuất {len(result.changed)} mục FAQ đã sửa ({len(result.created)} mục mới) vào {len(result.files)} tệp.")
    else:
        click.echo("Không có mục FAQ nào khác với các tệp: không ghi gì.")
    for entry_id, version, day in result.scheduled:
        click.echo(f"Chưa xuất (hẹn áp dụng từ {day:%d/%m/%Y}): mục {entry_id}, phiên bản {version}.")
    if result.changed:
        _err("Tiếp theo: python -m bot validate && python -m bot train, rồi xem git diff và commit.")


# --- the learning loop: labels and retrain jobs (bot/learning) ----------------------------------


@main.group()
def labels():
    """Nhãn của câu hỏi thật (trang «Học từ câu hỏi thật»)."""


@labels.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
def labels_export(ctx: _Context, path):
    """Ghi các nhãn đã chấp nhận ra PATH dạng YAML Rasa 3.x (để đưa vào nlu_data/)."""
    from .learning.review import labels as all_labels
    from .learning.review import labels_yaml

    with _db(ctx.settings) as db, db.read() as s:
        rows = all_labels(s, trainable_only=True)
        text = labels_yaml(rows)
    Path(path).write_text(text, encoding="utf-8")
    click.echo(f"Đã ghi {len(rows)} nhãn vào {path}.")


@main.group("retrain-job")
def retrain_job():
    """Lượt huấn luyện lại yêu cầu từ bảng điều khiển (thường do tiến trình xử lý chạy)."""


@retrain_job.command("run-once")
@pass_ctx
def retrain_job_run_once(ctx: _Context):
    """Chạy lượt huấn luyện đang chờ (nếu có) ngay trong tiến trình này."""
    from actions.resources import Resources

    from .learning.retrain import run_next
    from .storage.models import TrainingJob

    with _db(ctx.settings) as db:
        job_id = run_next(db, ctx.settings, Resources.load(ctx.settings))
        if job_id is None:
            click.echo("Không có lượt huấn luyện nào đang chờ.")
            return
        with db.read() as s:
            job = s.get(TrainingJob, job_id)
            status, version, error = job.status, job.candidate_version, job.error
    if status != "succeeded":
        raise click.ClickException(f"Lượt huấn luyện số {job_id} lỗi: {error}")
    click.echo(f"Lượt huấn luyện số {job_id} xong: mô hình mới {version} (chưa dùng; xem so sánh trên trang Mô hình).")


# --- personal data: purge, person export/delete, backup (bot/cli_privacy.py registers them on main);
# export-rasa (bot/cli_rasa.py)

from . import cli_privacy, cli_rasa, cli_units  # noqa: E402, F401
