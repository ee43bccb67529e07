"""The embedded engine: regorus (PyPI `celine-regorus`), evaluating Rego v1 in-process."""

from __future__ import annotations

import json
from typing import Any

from assess.gate.engine import PolicyError, PolicyModule, rego_error


class RegorusEngine:
    name = "regorus"

    def evaluate(self, modules: tuple[PolicyModule, ...], data: dict[str, Any], input_json: str,
                 query: str) -> Any:
        import regorus

        engine = regorus.Engine()
        for module in modules:
            try:
                engine.add_policy(module.path, module.text)
            except RuntimeError as e:
                raise rego_error(str(e), fallback_path=module.path) from e
        try:
            engine.add_data(data)
            engine.set_input_json(input_json)
            raw = engine.eval_rule_as_json(query)
        except RuntimeError as e:
            raise rego_error(str(e)) from e
        result = json.loads(raw)
        if result is None:
            raise PolicyError(f"the policies define no {query}")
        return result


def run_rules(modules: tuple[PolicyModule, ...], data: dict[str, Any], rules: list[str]) -> dict[str, bool | str]:
    """Evaluate boolean rules (Rego unit tests) in one engine: True, False (undefined/false) or an error text."""
    import regorus

    engine = regorus.Engine()
    for module in modules:
        try:
            engine.add_policy(module.path, module.text)
        except RuntimeError as e:
            raise rego_error(str(e), fallback_path=module.path) from e
    engine.add_data(data)
    outcome: dict[str, bool | str] = {}
    for rule in rules:
        try:
            outcome[rule] = engine.eval_rule(rule) is True
        except RuntimeError as e:
            error = rego_error(str(e))
            outcome[rule] = error.one_line()
    return outcome
