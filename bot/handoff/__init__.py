"""The human queue: tickets, their deadlines, notifications and reports."""
