"""YAML loading that remembers line numbers, so data errors can name file and line."""

from __future__ import annotations

import yaml


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings carry ``__line__`` (1-based line of the mapping) and
    ``__value_lines__`` (line where each value's content starts; block scalars start on the next line)."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode, deep: bool = False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__value_lines__"] = {
        key.value: value.start_mark.line + (2 if getattr(value, "style", None) in ("|", ">") else 1)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

META_KEYS = ("__line__", "__value_lines__")


def error_location(exc: yaml.YAMLError, source: str) -> str:
    """'file:line' for a YAML error (or just 'file')."""
    mark = getattr(exc, "problem_mark", None)
    return f"{source}:{mark.line + 1}" if mark else source


def load(text: str):
    return yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
