"""supervisor: starts, watches, restarts and stops the audio-uplink processes."""
