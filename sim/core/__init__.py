"""The pure array core: issue spaces, replica streams, scoring, concession strategies,
round protocols, per-round dynamics and the ``Batch`` they all read. Arrays in, arrays
out: no scenario schema and no Mesa here (checked by the import contracts).
"""
