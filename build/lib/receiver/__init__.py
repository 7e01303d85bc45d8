"""The reference receiver: a Socket.IO server that validates frames and writes WAV files."""
