"""Bringing a team's own APIs (OpenAPI documents) and manual test cases (CSV, XLSX) into CaseFlow."""
