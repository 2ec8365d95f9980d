"""``NAME=VALUE`` options that set an estimator's parameters (CLI and benchmarks)."""

from __future__ import annotations

import json

__all__ = ["estimator_params", "parse_assignment", "parse_assignments", "parse_value"]


def parse_value(value: str):
    """A ``NAME=VALUE`` option's value: a number, ``true``, ``false`` or ``null`` as
    JSON, anything else as the string itself."""
    numeric = value[:1] in "-.0123456789" or value in ("true", "false", "null")
    return json.loads(value) if numeric else value


def parse_assignment(item: str) -> tuple[str, object] | None:
    """``"a=1"`` -> ``("a", 1)`` (the value as ``parse_value``); None where ``item`` is
    not ``NAME=VALUE`` (an empty name or value included)."""
    name, eq, value = item.partition("=")
    return (name, parse_value(value)) if eq and name and value else None


def parse_assignments(items, malformed, not_a_number, repeated=None) -> dict:
    """``NAME=VALUE`` entries as ``{name: value}`` (values as ``parse_value``).

    An entry that is not ``NAME=VALUE``, or whose value looks like a number but is not
    valid JSON, raises :class:`ValueError` with ``malformed(entry)`` or
    ``not_a_number(entry)`` as its message; a name given twice raises it with
    ``repeated(name)`` (by default ``"NAME is set more than once"``), never keeping
    one of the two values silently.
    """
    params = {}
    for item in items:
        try:
            assignment = parse_assignment(item)
        except json.JSONDecodeError:
            raise ValueError(not_a_number(item)) from None
        if assignment is None:
            raise ValueError(malformed(item))
        name, value = assignment
        if name in params:
            message = (
                f"{name} is set more than once" if repeated is None else repeated(name)
            )
            raise ValueError(message)
        params[name] = value
    return params


def estimator_params(option: str, items, estimator, reserved=None, setter="the script"):
    """The entries of a repeatable ``NAME=VALUE`` option as parameters of the estimator
    class ``estimator``: ``{name: value}`` (values as ``parse_value``).

    Raises :class:`ValueError` naming ``option`` and the problem: an entry that is not
    ``NAME=VALUE`` (or a value that is not valid JSON where it looks like a number), a
    parameter ``estimator`` does not have, one in ``reserved`` (``{name: the option
    that sets it}``, said to be set by ``setter``), ``true`` or ``false`` for a
    parameter that is not boolean, a value ``estimator``'s own validation refuses.
    """
    params = parse_assignments(
        items,
        malformed=lambda item: f"{option} {item!r}: expected NAME=VALUE",
        not_a_number=lambda item: f"{option} {item!r}: its value is not a number",
        repeated=lambda name: f"{option} {name}: given more than once",
    )
    for name, option_that_sets in (reserved or {}).items():
        if name in params:
            raise ValueError(f"{option} {name}: {setter} sets it ({option_that_sets})")
    unknown = sorted(set(params) - set(estimator().get_params()))
    if unknown:
        raise ValueError(f"{option}: {estimator.__name__} has no parameter {unknown}")
    # scikit-learn's numeric constraints take True and False as 1 and 0; a command
    # line that reads "min_length=true" as 1 would hide a slip
    constraints = getattr(estimator, "_parameter_constraints", {})
    for name, value in params.items():
        if isinstance(value, bool) and "boolean" not in constraints.get(name, ["boolean"]):
            raise ValueError(
                f"{option} {name}={str(value).lower()}: {estimator.__name__}'s {name} "
                "is not a true/false setting"
            )
    try:
        estimator(**params)._validate_params()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{option}: {error}") from None
    return params
