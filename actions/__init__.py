"""Custom actions in rasa-sdk style.

The engine runs these classes in-process; ``python -m rasa_sdk --actions actions`` serves the same
classes to a Rasa deployment. Actions read everything they need from the tracker (latest message,
slots) and the knowledge base, and report what should happen through events (``SlotSet``).
"""

from .actions import (  # noqa: F401  (re-exported for the rasa-sdk executor)
    ActionAnswerFAQ,
    ActionClarify,
    ActionDefaultFallback,
    ActionEmpty,
    ActionFeedback,
    ActionHandoff,
    ActionSmalltalk,
    ActionTicketStatus,
)
