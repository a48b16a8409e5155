"""The impact model: what an incident costs and what a model or a mitigation is worth (impact/triptime.yaml)."""

from .estimate import IncidentEstimate, IncidentSignals, Measured, estimate_incident, money
from .model import ImpactModel, ImpactModelError, default_impact_model, load_impact_model
from .statement import ImpactCredit, score_impact_statement
from .value import cost_per_million, mitigation_roi, value_per_day

__all__ = ["IncidentEstimate", "IncidentSignals", "Measured", "estimate_incident", "money", "ImpactModel",
           "ImpactModelError", "default_impact_model", "load_impact_model", "ImpactCredit", "score_impact_statement",
           "cost_per_million", "mitigation_roi", "value_per_day"]
