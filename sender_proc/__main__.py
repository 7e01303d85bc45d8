"""`python -m sender_proc --config FILE`: how the supervisor starts a sender process."""

import argparse

from sender_proc.run import main

parser = argparse.ArgumentParser(prog="python -m sender_proc")
parser.add_argument("--config", required=True, help="JSON config written by the supervisor")
main(parser.parse_args().config)
