"""The ``gesture`` and ``dyadic`` recipes (speech -> SMPL-X motion; see :mod:`.config`). Nothing heavy is imported here."""
