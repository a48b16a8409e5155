"""The monitor: windows of live predictions joined to late labels, judged by Evidently against
the model's reference sample (data drift, prediction drift, regression quality), plus feature
freshness and training-serving skew; failed checks become alerts (with hysteresis) and metrics."""
