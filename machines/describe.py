"""A process definition described for people and programs: a plain dict, Mermaid and DOT text.

Pure functions of a `ProcessDefinition`; nothing here renders images or reads the store.
The diagrams are python-statemachine's own (`statemachine.contrib.diagram`: it extracts the
machine class, then renders Mermaid, or DOT through pydot), with what the library does not
draw added on top: state names as the definition spells them, each state's step and time
limit, requirements among the guards, arrows a worker or a time limit fires marked, automated
and final states styled, and for a live process its current state and the states it passed
through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pydot
from statemachine.contrib.diagram.extract import extract
from statemachine.contrib.diagram.model import ActionType, DiagramAction, DiagramGraph
from statemachine.contrib.diagram.renderers.dot import DotRenderer, DotRendererConfig
from statemachine.contrib.diagram.renderers.mermaid import MermaidRenderer, MermaidRendererConfig

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


STYLES = {
    "automated": {"fillcolor": "#e3f2fd", "color": "#1565c0"},
    "final": {"fillcolor": "#eeeeee", "color": "#616161"},
    "visited": {"fillcolor": "#c8e6c9", "color": "#2e7d32"},
    "current": {"fillcolor": "#ffd54f", "color": "#e65100", "penwidth": "3"},
}
"""How a diagram marks states: automated and final ones, and a live process's path."""
MARKED_EDGES = ("start", "automated", "deadline")
"""Kinds of trigger no client sends, drawn dashed in DOT."""


def mermaid(
    definition: ProcessDefinition, current: str | None = None, visited: Iterable[str] = ()
) -> str:
    """A Mermaid `stateDiagram-v2`; `current` and `visited` mark a live process's path."""
    graph, _ = _graph(definition, for_mermaid=True)
    text = MermaidRenderer(MermaidRendererConfig(direction="TB")).render(graph)
    title = _mermaid_text(definition.title)
    first, *rest = text.rstrip("\n").split("\n")
    lines = [first, f"    %% {definition.name} v{definition.version}: {title}", *rest]
    classes = _classes(definition, current, visited)
    for name, style in STYLES.items():
        if current is not None or name in ("automated", "final"):
            fill, stroke = style["fillcolor"], style["color"]
            width = f",stroke-width:{style['penwidth']}px" if "penwidth" in style else ""
            lines.append(f"    classDef {name} fill:{fill},stroke:{stroke}{width}")
    for name, members in classes.items():
        if members:
            lines.append(f"    class {','.join(members)} {name}")
    if current is not None:
        lines.append(f"    %% path: {' -> '.join(_path(visited, current))}")
    return "\n".join(lines) + "\n"


def dot(
    definition: ProcessDefinition, current: str | None = None, visited: Iterable[str] = ()
) -> str:
    """Graphviz DOT source of the same diagram, for `dot -Tsvg` or `-Tpng`."""
    graph, kinds = _graph(definition, for_mermaid=False)
    rendered = DotRenderer(DotRendererConfig(graph_attrs={"labelloc": "t"})).render(graph)
    rendered.set("label", f"{definition.title} (v{definition.version})")
    marks = {
        state: STYLES[name]
        for name, members in _classes(definition, current, visited).items()
        for state in members
    }
    for node in _nodes(rendered):
        for attribute, value in marks.get(node.get_name().strip('"'), {}).items():
            node.set(attribute, value)
    # The renderer's edges carry no trace of their transition but its ends and its label.
    unsent: dict[tuple[str, str], list[str]] = {}
    for transition, kind in zip(graph.transitions, kinds, strict=True):
        if kind in MARKED_EDGES:
            for target in transition.targets:
                unsent.setdefault((transition.source, target), []).append(transition.event)
    for edge in rendered.get_edges():
        ends = (str(edge.get_source()).strip('"'), str(edge.get_destination()).strip('"'))
        label = str(edge.get("label") or "")
        if any(_names(event, label) for event in unsent.get(ends, ())):
            edge.set("style", "dashed")
    return str(rendered.to_string())


_graphs: dict[tuple[int, bool], tuple[ProcessDefinition, DiagramGraph, list[str]]] = {}


def _graph(definition: ProcessDefinition, *, for_mermaid: bool) -> tuple[DiagramGraph, list[str]]:
    """The library's picture of the definition's machine, with what it does not draw added,
    and the kind of trigger of each of its transitions. Read it; never change it.

    python-statemachine extracts states and transitions from the class; this names states as
    the definition does (the class's attributes are snake_case), notes each state's step and
    time limit, puts a trigger's requirements before its branch condition and says which
    triggers a worker or a time limit fires. Extracting takes most of the time of drawing a
    Mermaid diagram and the picture never changes, so it is made once per definition (and
    kept with it, so that its id cannot be taken by another) and shared by every request.
    """
    key = (id(definition), for_mermaid)
    kept = _graphs.get(key)
    if kept is None or kept[0] is not definition:
        kept = (definition, *_picture(definition, for_mermaid))
        _graphs[key] = kept
    return kept[1], kept[2]


def _picture(definition: ProcessDefinition, for_mermaid: bool) -> tuple[DiagramGraph, list[str]]:
    text = _mermaid_text if for_mermaid else str
    machine = definition.machine
    names = {state.id: str(state.value) for state in machine.states_map.values()}
    graph = extract(machine)
    graph.name = definition.name
    for state in graph.states:
        state.id = names[state.id]
        notes = [text(note) for note in _notes(definition, state.id)]
        if for_mermaid and notes:
            # Mermaid shows a description instead of the name of a state it has no label for,
            # so the notes go into the label: `state "VisitScheduled (time limit 28 days)"`.
            state.name = f"{state.id} ({', '.join(notes)})".replace('"', "'")
        elif notes:
            state.actions = [DiagramAction(ActionType.INTERNAL, note) for note in notes]
    kinds = []
    for transition in graph.transitions:
        trigger = definition.trigger_by_name[transition.event]
        kind = trigger_kind(definition, trigger)
        kinds.append(kind)
        transition.source = names[transition.source]
        transition.targets = [names[target] for target in transition.targets]
        required = [getattr(r.check, "__name__", repr(r.check)) for r in trigger.requires]
        transition.guards = [text(guard) for guard in (*required, *transition.guards)]
        if kind == "automated":
            transition.event += " (automated)"
        elif kind == "deadline":
            days = definition.time_limits_days.get(transition.source)
            transition.event += f" (after {days} days)"
    return graph, kinds


def _names(event: str, label: str) -> bool:
    """Whether an edge's `label` shows the trigger `event` (not one whose name contains it)."""
    return re.search(rf"(?<![\w]){re.escape(event)}(?![\w])", label) is not None


def _nodes(graph: pydot.Dot | pydot.Subgraph) -> Iterator[pydot.Node]:
    """Every node of `graph`, those of its subgraphs included (the renderer nests them)."""
    yield from graph.get_nodes()
    for subgraph in graph.get_subgraphs():
        yield from _nodes(subgraph)


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
