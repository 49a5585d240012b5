"""Helpers the tests share that are not fixtures (fixtures live in the nearest conftest.py).

No test module imports another test module; what two of them need lives here or in
`tests/fakes/` (tests/test_layout.py checks it).
"""
