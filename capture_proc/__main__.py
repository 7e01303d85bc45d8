"""`python -m capture_proc --config FILE`: how the supervisor starts a capture process."""

import argparse

from capture_proc.run import main

parser = argparse.ArgumentParser(prog="python -m capture_proc")
parser.add_argument("--config", required=True, help="JSON config written by the supervisor")
main(parser.parse_args().config)
