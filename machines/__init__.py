"""Process definitions, one module each, found by looking: no other code names a process.

A module of this package is a process definition when it has a module-level `definition`
that is a `ProcessDefinition`. Adding a process means adding such a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from machines.definition import ProcessDefinition


@cache
def registry() -> dict[str, ProcessDefinition]:
    """Every process definition in this package, by its URL name."""
    found: dict[str, ProcessDefinition] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        definition = getattr(module, "definition", None)
        if isinstance(definition, ProcessDefinition):
            if definition.name in found:
                raise ValueError(f"Two process definitions are named {definition.name!r}.")
            found[definition.name] = definition
    return found


def get(name: str) -> ProcessDefinition | None:
    """The definition called `name`, or None."""
    return registry().get(name)
