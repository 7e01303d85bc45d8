"""sender_proc: pulls frames from capture and emits them over Socket.IO with ack flow control."""
