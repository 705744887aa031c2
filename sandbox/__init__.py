"""sandbox: a secure, fast, parallel executor for untrusted candidate programs (standard library + psutil).

It never imports torch or alphagen. See the README, "Threat model".
"""

from sandbox.compare import CompareOptions, compare_outputs
from sandbox.executor import Executor
from sandbox.interface import BatchExecutor, BatchRequest
from sandbox.values import Language, Limits, Program, Result, Status

__all__ = [
    "BatchExecutor",
    "BatchRequest",
    "CompareOptions",
    "Executor",
    "Language",
    "Limits",
    "Program",
    "Result",
    "Status",
    "compare_outputs",
]
