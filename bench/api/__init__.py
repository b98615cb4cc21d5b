"""API benchmarks: batch receipt latency under concurrent stations, RSS while streaming a 500 MB upload."""
