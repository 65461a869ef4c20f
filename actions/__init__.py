"""Custom actions in rasa-sdk style.

The engine runs these classes in-process (``ACTIONS`` is the one registry it builds them from);
``python -m rasa_sdk --actions actions`` serves the same classes to a Rasa deployment. Actions
read everything they need from the tracker (latest message, slots) and the knowledge base, and
only render: they decide nothing and write nothing.
"""

from .actions import (
    ActionAnswerFAQ,
    ActionAttachment,
    ActionCalculate,
    ActionClarify,
    ActionDefaultFallback,
    ActionEmpty,
    ActionFeedback,
    ActionForm,
    ActionFormCancel,
    ActionHandoff,
    ActionSmalltalk,
    ActionTicketStatus,
)

ACTIONS = (
    ActionAnswerFAQ,
    ActionAttachment,
    ActionCalculate,
    ActionClarify,
    ActionDefaultFallback,
    ActionEmpty,
    ActionFeedback,
    ActionForm,
    ActionFormCancel,
    ActionHandoff,
    ActionSmalltalk,
    ActionTicketStatus,
)

__all__ = [cls.__name__ for cls in ACTIONS] + ["ACTIONS"]
