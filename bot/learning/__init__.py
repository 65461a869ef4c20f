"""The maintainer's learning loop (issue 12): review real questions, label them, retrain in the
background, compare the candidate with the model in use, then activate, discard or roll back.

- ``review``: the review queue and the labels (table ``question_labels``);
- ``retrain``: retrain jobs (table ``training_jobs``), claimed and run by the workers;
- ``compare``: a candidate model against the model in use, through the bot's real decisions;
- ``versions``: activate, discard, roll back, with an ``audit_log`` record each.

Plain modules: no Flask. The pages are ``bot/dashboard/learning.py``.
"""


class LearningError(ValueError):
    """A request the loop refuses; ``status`` is the HTTP status a page answers with, the message
    is Vietnamese for the maintainer."""

    status = 400

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class NotFound(LearningError):
    def __init__(self, message: str):
        super().__init__(message, 404)


class Conflict(LearningError):
    def __init__(self, message: str):
        super().__init__(message, 409)
