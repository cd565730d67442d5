"""In-memory fakes of the functions' ports, one module per function."""
