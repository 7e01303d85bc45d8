"""Stand-ins for the world outside audio-uplink, shared by tests/ and bench/.

A fake Socket.IO server with injected faults (fake_server), a raw wire client
(wire) and a throwaway PKI (certs). Not shipped in the wheel; imports only the
product's frame format, never tests/ or bench/, so a benchmark runs from a
checkout without the test suite. Free ports come from uplink_runtime.net, the
one the supervisor uses for its embedded receiver.
"""
