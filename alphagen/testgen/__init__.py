"""Extra test inputs for clustering: mutated examples, model-written inputs and generator programs, validated.

Public API (what the pipeline calls):
    TestGenConfig, TestInputs, generate_test_inputs(view, survivors, executor, limits, cfg, seed, ...),
    distinguishing(outputs_by_program) -> list[bool], ModelMemo (the model sources' proposals kept for a solve's
    later rounds).
"""

from alphagen.testgen.config import SOURCES, TestGenConfig, TestInputs
from alphagen.testgen.distinguish import distinguishing
from alphagen.testgen.generate import generate_test_inputs
from alphagen.testgen.sources import ModelMemo

__all__ = ["SOURCES", "ModelMemo", "TestGenConfig", "TestInputs", "distinguishing", "generate_test_inputs"]
