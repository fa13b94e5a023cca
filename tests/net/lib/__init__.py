"""nospof network-namespace test harness (see tests/net/README.md)."""
