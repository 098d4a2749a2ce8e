"""One module per procedure kind; each ends with ``register(ProcedureKind(...))``.

Every module here is imported by ``kinds.load_catalog``: adding a kind is adding a module.
"""
