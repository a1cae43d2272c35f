"""Self-evaluation on the library's tagged scenes; calibration of the auto-apply threshold."""
