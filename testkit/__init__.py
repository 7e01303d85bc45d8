"""Stand-ins for the world outside audio-uplink, shared by tests/ and bench/.

A fake Socket.IO server with injected faults (fake_server), a raw wire client
(wire), a throwaway PKI (certs) and free ports (net). Not shipped in the
wheel; imports only the product's frame format, never tests/ or bench/, so a
benchmark runs from a checkout without the test suite.
"""
