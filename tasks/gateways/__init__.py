"""SMS gateways: declarative definitions (:mod:`.spec`), the engine that runs them (:mod:`.engine`),
the registry (:mod:`.registry`), and the delivery around them (numbers, encoding, rate limit,
fallback: :mod:`.delivery`)."""
