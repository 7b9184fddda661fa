"""Imported only if the restricted unpickler wrongly imports a module a pickle names."""

IMPORTED = True
