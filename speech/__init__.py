"""cohear's `speech` domain: voice answers in (any phone format, checked and normalised),
transcribed by faster-whisper as durable jobs, reviewed as transcript versions."""
