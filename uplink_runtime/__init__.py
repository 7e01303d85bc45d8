"""What every child process runs: start-up and heartbeats, logging, tokens, CURVE,
histograms, backoff and the configuration error; and the one free_port of the tree."""
