"""``python -m bot export-rasa``: the project as a Rasa 3.6 project (see bot/rasa/export.py)."""

from __future__ import annotations

import click

from .cli import _err, main, pass_ctx
from .knowledge import KnowledgeBaseError
from .nlu.training_data import TrainingDataError


@main.command("export-rasa")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--whitespace", is_flag=True,
              help="Dùng WhitespaceTokenizer mặc định của Rasa thay cho bộ tách từ tiếng Việt của dự án (để so sánh).")
@click.option("--max-examples-per-intent", type=click.IntRange(min=1), default=None,
              help="Chỉ lấy tối đa N câu ví dụ cho mỗi ý định (chọn ngẫu nhiên cố định), để huấn luyện nhanh.")
@click.option("--epochs", type=click.IntRange(min=1), default=100, show_default=True,
              help="Số epoch của DIETClassifier và ResponseSelector.")
@click.option("--action-server-url", default=None,
              help="Địa chỉ máy chủ hành động ghi vào endpoints.yml. Mặc định: RASA_ACTION_SERVER_URL.")
@pass_ctx
def export_rasa(ctx, out_dir, whitespace, max_examples_per_intent, epochs, action_server_url):
    """Xuất một dự án Rasa 3.6 huấn luyện được từ nlu_data/ và faq/ vào OUT_DIR.

    \b
    Ghi config.yml, domain.yml, endpoints.yml, data/nlu.yml, data/rules.yml. Sau đó, trong môi
    trường Rasa (Python 3.10, xem bin/rasa-env) và với thư mục dự án này trong PYTHONPATH:
      cd OUT_DIR && rasa train && rasa run --enable-api
      python -m rasa_sdk --actions actions      (máy chủ hành động: chuyển cán bộ, tạo phiếu)
    """
    from .rasa.export import ExportError, export_project

    try:
        result = export_project(out_dir, ctx.settings, whitespace=whitespace, max_examples_per_intent=max_examples_per_intent,
                                epochs=epochs, action_server_url=action_server_url)
    except (ExportError, KnowledgeBaseError, TrainingDataError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"Không ghi được dự án Rasa vào {out_dir}: {exc.strerror or exc}") from None
    tokenizer = "WhitespaceTokenizer" if whitespace else "bot.rasa.VietnameseTokenizer"
    _err(f"Đã xuất dự án Rasa vào {result.folder}: {result.intents} ý định, {result.examples} câu ví dụ, "
         f"{result.responses} câu trả lời FAQ; bộ tách từ {tokenizer}; mã băm {result.digest}.")
