"""How the service reports on itself: structured logs with the context that applies
(`telemetry.logs`, `telemetry.context`) and Prometheus metrics (`telemetry.metrics`).

Shared by the API, the workers and beat; imports nothing of the domain, so any layer may use it.
"""
