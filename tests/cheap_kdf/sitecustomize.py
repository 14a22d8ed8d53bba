"""Loaded by every Python process the tests start (tests/conftest.py puts this folder on PYTHONPATH): the
encrypted credential file's Argon2 at test cost, so a worker process reads what the test wrote.

Production keeps keyrings.cryptfile's cost (tests/test_credentials.py pins it): seconds a derivation on
purpose, which a suite that writes hundreds of credential files cannot pay. The cost is lowered when
keyrings.cryptfile is first imported, not here: a command that never opens the keyring never loads it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

CRYPTFILE = "keyrings.cryptfile.cryptfile"


class _LowerTheCost(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != CRYPTFILE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_lower(module: ModuleType) -> None:
            exec_module(module)
            module.ArgonAESEncryption.time_cost = 1
            module.ArgonAESEncryption.memory_cost = 16  # KiB: Argon2 needs 8 per lane, and there are 2

        spec.loader.exec_module = exec_and_lower  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _LowerTheCost())
