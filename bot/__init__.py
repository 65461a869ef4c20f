"""Vietnamese trade-union labor-rights FAQ chatbot."""

__version__ = "0.1.0"
