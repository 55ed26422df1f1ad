"""Benchmarks of CaseFlow: start and list latency at 100,000 tasks, workflow throughput, memory."""
