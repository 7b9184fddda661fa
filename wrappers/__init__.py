"""Cross-cutting helpers: log setup and masking, shared HTTP session."""
