"""capture_proc: owns the audio source and publishes sequenced frames over ZeroMQ."""
