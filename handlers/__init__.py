"""Message → intent → action → reply. Knows nothing of HTTP, XML or signatures."""
