"""Reproducible benchmarks with their own data generators (not run by the test suite)."""
