"""The policy gate: Rego v1 policies over a CBOM, run by regorus (embedded) or opa."""

from assess.gate.engine import PolicyBundle, PolicyEngine, PolicyError, load_policies
from assess.gate.run import EngineChoice, GateOptions, GateOutcome, evaluate, write_outputs

__all__ = [
    "EngineChoice",
    "GateOptions",
    "GateOutcome",
    "PolicyBundle",
    "PolicyEngine",
    "PolicyError",
    "evaluate",
    "load_policies",
    "write_outputs",
]
