"""Use cases: what the API and the workers ask of processes, independent of both."""
