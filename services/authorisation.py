"""Who may do what: a policy read from configuration, applied by the use cases.

Groups come from the caller's verified token. Each definition declares who may send its
triggers; a policy may narrow that (`triggers`), and says which groups may start which
process, which see every patch (administrators), and how a group grants a patch
(`patch:<name>` by default): an officer sees and acts on the processes of their patches, and
on processes not yet assigned to any patch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machines.definition import ProcessDefinition
from machines.model import Process
from services.errors import ServiceError

ANY = "*"


class Forbidden(ServiceError):
    """The caller is authenticated but not allowed to do this."""


@dataclass(frozen=True)
class Policy:
    """Group-based permissions; `ANY` in a list stands for every authenticated caller."""

    admin_groups: frozenset[str] = frozenset({"processes-admin"})
    start: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    patch_group_prefix: str = "patch:"
    default_groups: tuple[str, ...] = (ANY,)
    enforced: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """Read a policy from its JSON form (see config/authorisation.json)."""
        return cls(
            admin_groups=frozenset(data.get("adminGroups", ["processes-admin"])),
            start={name: tuple(groups) for name, groups in data.get("start", {}).items()},
            triggers={name: tuple(groups) for name, groups in data.get("triggers", {}).items()},
            patch_group_prefix=data.get("patchGroupPrefix", "patch:"),
            default_groups=tuple(data.get("defaultGroups", [ANY])),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        return cls.from_mapping(json.loads(Path(path).read_text()))

    def is_admin(self, groups: frozenset[str]) -> bool:
        """Administrators see and act on every patch."""
        return not self.enforced or bool(self.admin_groups & groups)

    def patches(self, groups: frozenset[str]) -> frozenset[str] | None:
        """The patches these groups work on; None means every patch (administrators)."""
        if self.is_admin(groups):
            return None
        prefix = self.patch_group_prefix
        return frozenset(g[len(prefix) :] for g in groups if g.startswith(prefix))

    def check_start(self, groups: frozenset[str], process_name: str, patch: str | None) -> None:
        allowed = self.start.get(process_name, self.start.get(ANY, self.default_groups))
        if not self._in(groups, allowed):
            raise Forbidden(f"You may not start a {process_name} process.")
        self._check_patch(groups, patch)

    def senders(self, definition: ProcessDefinition, trigger: str) -> tuple[str, ...]:
        """Who may send `trigger`: those its definition declares, narrowed by configuration
        (`triggers` keyed `process.Trigger`, `Trigger` or `*`, the most specific applying)."""
        declared = definition.senders_of(definition.trigger_by_name[trigger])
        narrowed = self.triggers.get(
            f"{definition.name}.{trigger}", self.triggers.get(trigger, self.triggers.get(ANY))
        )
        if narrowed is None or ANY in narrowed:
            return declared
        if ANY in declared:
            return narrowed
        return tuple(group for group in declared if group in narrowed)

    def check_trigger(
        self, groups: frozenset[str], definition: ProcessDefinition, trigger: str
    ) -> None:
        """The caller may send `trigger` to processes of `definition`."""
        if not self._in(groups, self.senders(definition, trigger)):
            raise Forbidden(f"You may not send {trigger}.")

    def check_access(self, groups: frozenset[str], process: Process) -> None:
        """The caller may see and act on this process (its patch is theirs, or it has none)."""
        if not self._works_on(groups, process.current_state.assignment.get("patch")):
            # Which patch it is on is itself case data: the caller is told only that it is not
            # theirs.
            raise Forbidden("This case is assigned to a patch that is not yours.")

    def check_assign(self, groups: frozenset[str], patch: str | None) -> None:
        """The caller may hand a process to `patch`: their own, unless they are an admin."""
        self._check_patch(groups, patch)

    def _check_patch(self, groups: frozenset[str], patch: str | None) -> None:
        """Refuse a patch the caller named themselves (starting, assigning): it may be named."""
        if not self._works_on(groups, patch):
            raise Forbidden(f"Patch {patch!r} is not yours.")

    def _works_on(self, groups: frozenset[str], patch: str | None) -> bool:
        patches = self.patches(groups)
        return patches is None or patch is None or patch in patches

    def _in(self, groups: frozenset[str], allowed: Iterable[str]) -> bool:
        allowed = set(allowed)
        return ANY in allowed or bool(allowed & groups) or self.is_admin(groups)


ALLOW_ALL = Policy(enforced=False)
"""The policy of the system's own work (workers, beat): everything is allowed."""


def token_groups(claim: Any) -> frozenset[str]:
    """A token's `groups` claim as a set; every authenticated caller is also in `ANY`."""
    if isinstance(claim, str):
        claim = [claim]
    return frozenset(str(g) for g in claim or []) | {ANY}
