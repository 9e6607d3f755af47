"""A process definition described for people and programs: a plain dict, Mermaid and DOT text.

Pure functions of a `ProcessDefinition`; nothing here renders images or reads the store.
The texts can mark a live process: its current state, and the states it passed through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from machines.definition import INITIAL_STATE, START_TRIGGER, Branch, ProcessDefinition, Trigger

Description = dict[str, Any]

KINDS = ("start", "client", "automated", "deadline", "internal")
"""Who fires a trigger: the engine at start, a client, an automated step, a time limit, or
nobody declared (an internal trigger that no step or time limit fires: a definition error)."""


def trigger_kind(definition: ProcessDefinition, trigger: Trigger) -> str:
    """One of `KINDS`."""
    if trigger.name == START_TRIGGER:
        return "start"
    if trigger.client:
        return "client"
    if any(trigger.name in step.outcomes for step in definition.automated_steps):
        return "automated"
    if trigger.name in definition.on_overdue.values():
        return "deadline"
    return "internal"


def condition_name(branch: Branch) -> str | None:
    """The name of the function that chooses `branch`, or None when it is always taken."""
    if branch.when is None:
        return None
    return getattr(branch.when, "__name__", None) or repr(branch.when)


def guards(trigger: Trigger, branch: Branch) -> list[str]:
    """The names of the checks a transition along `branch` of `trigger` depends on."""
    names = [getattr(r.check, "__name__", repr(r.check)) for r in trigger.requires]
    condition = condition_name(branch)
    return [*names, condition] if condition else names


def describe(definition: ProcessDefinition) -> Description:
    """Everything a client or a developer needs to know about a definition, as JSON-ready data."""
    steps = definition.automated_step_by_state
    states = [
        {
            "name": state,
            "initial": state == INITIAL_STATE,
            "first": state == definition.first_state,
            "final": definition.is_final(state),
            "permittedTriggers": definition.permitted_triggers(state),
            "automatedStep": steps[state].step if state in steps else None,
            "timeLimitDays": definition.time_limits_days.get(state),
            "onOverdue": definition.on_overdue.get(state),
            "event": definition.state_events.get(state, "ProcessUpdatedEvent"),
        }
        for state in definition.states
    ]
    triggers = [
        {
            "name": trigger.name,
            "kind": trigger_kind(definition, trigger),
            "client": trigger.client,
            "description": trigger.description,
            "sources": list(trigger.sources),
            "targets": list(trigger.targets),
            "branches": [
                {"target": branch.target, "condition": condition_name(branch)}
                for branch in trigger.branches
            ],
            "requires": [
                {"check": getattr(r.check, "__name__", repr(r.check)), "message": r.message}
                for r in trigger.requires
            ],
            "formData": _plain(trigger.form) if trigger.client else None,
            "example": _plain(trigger.example) if trigger.client else None,
        }
        for trigger in definition.all_triggers
    ]
    return {
        "name": definition.name,
        "title": definition.title,
        "description": definition.description,
        "targetType": definition.target_type,
        "version": definition.version,
        "initialState": INITIAL_STATE,
        "firstState": definition.first_state,
        "finalStates": list(definition.final_states),
        "states": states,
        "triggers": triggers,
        "clientTriggers": list(definition.client_triggers),
        "startForm": {
            "formData": _plain(definition.start_form),
            "example": _plain(definition.start_example),
        },
        "automatedSteps": [
            {
                "state": step.state,
                "step": step.step,
                "outcomes": list(step.outcomes),
                "description": step.description,
            }
            for step in definition.automated_steps
        ],
        "timeLimitsDays": dict(definition.time_limits_days),
        "onOverdue": dict(definition.on_overdue),
        "defaultAssignments": {
            state: dict(fields) for state, fields in definition.default_assignments.items()
        },
        "stateEvents": dict(definition.state_events),
    }


def summary(definition: ProcessDefinition) -> Description:
    """The few fields a listing shows."""
    return {
        "name": definition.name,
        "title": definition.title,
        "description": definition.description,
        "targetType": definition.target_type,
        "version": definition.version,
        "states": len(definition.states),
        "clientTriggers": list(definition.client_triggers),
    }


Edge = tuple[str, str, str, list[str], str]
"""source, target, trigger, guard names, trigger kind."""


def edges(definition: ProcessDefinition) -> list[Edge]:
    """Every transition, start included, in declaration order."""
    return [
        (
            source,
            branch.target,
            trigger.name,
            guards(trigger, branch),
            trigger_kind(definition, trigger),
        )
        for trigger in definition.all_triggers
        for source in trigger.sources
        for branch in trigger.branches
    ]


def label(
    trigger: str, guard_names: list[str], kind: str, definition: ProcessDefinition, source: str
) -> str:
    """`Trigger [guard, guard] (who fires it)`: the text on an arrow."""
    text = trigger
    if guard_names:
        text += f" [{', '.join(guard_names)}]"
    if kind == "automated":
        text += " (automated)"
    elif kind == "deadline":
        text += f" (after {definition.time_limits_days.get(source)} days)"
    return text


def mermaid(
    definition: ProcessDefinition, current: str | None = None, visited: Iterable[str] = ()
) -> str:
    """A Mermaid `stateDiagram-v2`; `current` and `visited` mark a live process's path."""
    title = _mermaid_text(definition.title)
    lines = ["stateDiagram-v2", f"    %% {definition.name} v{definition.version}: {title}"]
    for state in definition.states:
        notes = _notes(definition, state)
        if notes:
            text = _mermaid_text(f"{state} ({', '.join(notes)})").replace('"', "'")
            lines.append(f'    state "{text}" as {state}')
    lines.append(f"    [*] --> {INITIAL_STATE}")
    for source, target, trigger, guard_names, kind in edges(definition):
        text = _mermaid_text(label(trigger, guard_names, kind, definition, source))
        lines.append(f"    {source} --> {target} : {text}")
    for state in definition.final_states:
        lines.append(f"    {state} --> [*]")
    classes = _classes(definition, current, visited)
    lines += [
        "    classDef automated fill:#e3f2fd,stroke:#1565c0",
        "    classDef final fill:#eeeeee,stroke:#616161",
    ]
    if current is not None:
        lines += [
            "    classDef visited fill:#c8e6c9,stroke:#2e7d32",
            "    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px",
        ]
    for name, members in classes.items():
        if members:
            lines.append(f"    class {','.join(members)} {name}")
    if current is not None:
        lines.append(f"    %% path: {' -> '.join(_path(visited, current))}")
    return "\n".join(lines) + "\n"


def dot(
    definition: ProcessDefinition, current: str | None = None, visited: Iterable[str] = ()
) -> str:
    """A Graphviz DOT digraph of the same diagram, for `dot -Tsvg` or `-Tpng`."""
    style = {
        "automated": 'style="rounded,filled" fillcolor="#e3f2fd" color="#1565c0"',
        "final": 'style="rounded,filled" fillcolor="#eeeeee" peripheries=2',
        "visited": 'style="rounded,filled" fillcolor="#c8e6c9" color="#2e7d32"',
        "current": 'style="rounded,filled,bold" fillcolor="#ffd54f" color="#e65100" penwidth=3',
    }
    highlight = {
        state: name
        for name, members in _classes(definition, current, visited).items()
        for state in members
    }
    title = f"{definition.title} (v{definition.version})"
    lines = [
        f"digraph {_dot_id(definition.name)} {{",
        f"  label={_dot_id(title)}; labelloc=t; rankdir=LR;",
        '  node [shape=box style=rounded fontname="Helvetica"];',
        '  edge [fontname="Helvetica" fontsize=10];',
        '  "__start__" [shape=point width=0.2 label=""];',
        f'  "__start__" -> {_dot_id(INITIAL_STATE)};',
    ]
    for state in definition.states:
        text = [state, *_notes(definition, state)]
        attributes = style.get(highlight.get(state, ""), "")
        lines.append(f"  {_dot_id(state)} [label={_dot_label(text)} {attributes}];")
    for source, target, trigger, guard_names, kind in edges(definition):
        text = [label(trigger, guard_names, kind, definition, source)]
        dashed = " style=dashed" if kind in ("automated", "deadline", "start") else ""
        arrow = f"{_dot_id(source)} -> {_dot_id(target)}"
        lines.append(f"  {arrow} [label={_dot_label(text)}{dashed}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _classes(
    definition: ProcessDefinition, current: str | None, visited: Iterable[str]
) -> dict[str, list[str]]:
    """Which states get which highlight; a live process's marks win over the definition's."""
    known = set(definition.states)
    passed = [] if current is None else [s for s in dict.fromkeys(visited) if s in known]
    marked = {*passed, current}
    return {
        "automated": [s.state for s in definition.automated_steps if s.state not in marked],
        "final": [s for s in definition.final_states if s not in marked],
        "visited": [s for s in passed if s != current],
        "current": [current] if current in known else [],
    }


def _notes(definition: ProcessDefinition, state: str) -> list[str]:
    """What a diagram says about a state besides its name: its step and its time limit."""
    notes = []
    step = definition.automated_step_by_state.get(state)
    if step is not None:
        notes.append(f"automated step {step.step}")
    days = definition.time_limits_days.get(state)
    if days:
        overdue = definition.on_overdue.get(state)
        notes.append(f"time limit {days} days" + (f", then {overdue}" if overdue else ""))
    return notes


def _path(visited: Iterable[str], current: str) -> list[str]:
    path = list(visited)
    return path if path and path[-1] == current else [*path, current]


def _plain(value: Any) -> Any:
    """Mappings and tuples as dicts and lists, so that the description serialises as JSON."""
    if value is None:
        return None
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _mermaid_text(text: str) -> str:
    # Mermaid ends a label at ';' and reads '#' and ':' as syntax.
    return re.sub(r"[;#:]", " ", text)


def _dot_id(name: str) -> str:
    return f'"{_dot_escape(name)}"'


def _dot_label(lines: list[str]) -> str:
    """A quoted DOT label with one line per item."""
    return '"' + "\\n".join(_dot_escape(line) for line in lines) + '"'


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
