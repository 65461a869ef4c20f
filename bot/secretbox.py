"""Platform secrets encrypted at rest (page tokens, app secrets, OA keys in ``unit_accounts``).

Fernet (``cryptography``) with the key of the ``SECRETS_KEY`` setting; ``SECRETS_KEY_OLD`` lists
former keys (space-separated) that still decrypt, so a key is rotated by moving it to
``SECRETS_KEY_OLD``, setting a new ``SECRETS_KEY`` and running ``python -m bot units
rotate-secrets`` (every secret re-encrypted with the new key). Errors carry a Vietnamese message
for operators and never the secret itself; ``mask`` is the only way a secret is ever shown.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_HINT = "Tạo khóa bằng lệnh: python -m bot units new-key, rồi đặt vào biến môi trường SECRETS_KEY."


class SecretsKeyError(RuntimeError):
    """The key is missing, malformed or cannot decrypt a stored secret (Vietnamese message)."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def mask(value: str | None) -> str:
    """``••••abcd``: the last four characters of a long secret, nothing of a short one."""
    if not value:
        return "(chưa đặt)"
    return "••••" + (value[-4:] if len(value) >= 12 else "")


def _fernet(key: str, name: str) -> Fernet:
    try:
        return Fernet(key.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise SecretsKeyError(f"{name} không phải khóa Fernet hợp lệ (44 ký tự base64). {KEY_HINT}") from None


class SecretBox:
    def __init__(self, key: str = "", old_keys: str = ""):
        self._key = (key or "").strip()
        self._old = [k for k in (old_keys or "").split() if k]

    @classmethod
    def from_settings(cls, settings) -> SecretBox:
        return cls(settings.get("SECRETS_KEY", ""), settings.get("SECRETS_KEY_OLD", ""))

    @property
    def configured(self) -> bool:
        return bool(self._key)

    def _multi(self) -> MultiFernet:
        if not self._key:
            raise SecretsKeyError(f"Chưa cấu hình SECRETS_KEY: không thể lưu hay đọc khóa bí mật của trang/OA. {KEY_HINT}")
        keys = [_fernet(self._key, "SECRETS_KEY")] + [_fernet(k, "SECRETS_KEY_OLD") for k in self._old]
        return MultiFernet(keys)

    def encrypt(self, plain: str | None) -> str | None:
        if plain is None or plain == "":
            return None
        return self._multi().encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return self._multi().decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretsKeyError(
                "Không giải mã được khóa bí mật đã lưu: SECRETS_KEY sai hoặc đã đổi. Đặt khóa cũ vào SECRETS_KEY_OLD "
                "rồi chạy: python -m bot units rotate-secrets") from None

    def rotate(self, token: str | None) -> str | None:
        """The same secret, encrypted with the current key (decrypted with any known key)."""
        if not token:
            return None
        try:
            return self._multi().rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretsKeyError(
                "Không giải mã được khóa bí mật đã lưu bằng SECRETS_KEY hay SECRETS_KEY_OLD: cần khóa cũ đã dùng để mã hóa.") from None
