"""Operations on a running supervisor: status, control, metrics, the report, stats and devices."""
