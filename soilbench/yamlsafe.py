"""YAML for untrusted files (catalogs, benchmark definitions): plain data, no aliases.

``yaml.safe_load`` already refuses ``!!python`` tags, but it expands anchors and aliases, so a
700-byte document of nested aliases (a "billion laughs" bomb) becomes billions of nodes and
holds a CPU for ever. Nothing soilbench reads needs aliases, so they are refused outright,
before any expansion.
"""

from __future__ import annotations

from typing import Any

import yaml


class NoAliasSafeLoader(yaml.SafeLoader):
    """yaml's safe loader that also refuses anchors/aliases (exponential 'billion laughs')."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(None, None, "YAML aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def load(text: str) -> Any:
    """Plain YAML data from ``text``; raises :class:`yaml.YAMLError` on aliases, tags or syntax."""
    return yaml.load(text, Loader=NoAliasSafeLoader)  # noqa: S506 (a safe loader subclass)
