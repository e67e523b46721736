"""Reading a raw inbound message: its parts, its kind, the client's new words and intent."""
