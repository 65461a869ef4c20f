"""The NLU's own Prometheus metric (in-process; ``bot.metrics`` exposes it with the rest)."""

from prometheus_client import Histogram

NLU_SECONDS = Histogram("congdoan_nlu_parse_seconds", "Time to classify one message and extract its entities",
                        buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0))
