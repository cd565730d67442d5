"""In-memory fakes of the functions' ports, one module per function (tests/support/fakes/<fn>.py)."""
