"""Stand-ins for the world outside audio-uplink, shared by tests/ and bench/.

A fake Socket.IO server with injected faults (fake_server), a raw wire client
(wire), a throwaway PKI (certs), a PulseAudio daemon with a virtual
microphone (pulse), a mic run's timed alarm log (alarm_run) and poll_for
(wait). Not shipped in the wheel; imports only the product's frame format,
never tests/ or bench/, so a benchmark runs from a checkout without the test
suite. Free ports come from uplink_runtime.net, the one the supervisor uses
for its embedded receiver.
"""
