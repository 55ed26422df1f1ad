"""Test doubles and process plumbing shared by the test suite and the benchmarks.

Not part of the product: a throwaway PostgreSQL cluster, a stand-in for the OpenAI API,
and a reset of the process's cached engines and settings between databases.
"""
