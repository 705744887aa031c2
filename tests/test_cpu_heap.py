"""cpu_heap: after retain_freed_memory, freeing and reallocating large tensors stops faulting pages back in."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from alphagen.models import cpu_heap

# In a fresh interpreter (the setting is process-wide): 8 x 16 MB allocated together and freed, five times, before
# and after the call; minor page faults per round. Before, glibc's thresholds are pinned to their documented start
# values (128 KiB each), because its dynamic ones depend on what imports happened to free: every 16 MB block is
# then a fresh mapping, faulted in on first touch, until the call raises the thresholds.
SCRIPT = """
import ctypes, resource, torch
from alphagen.models.cpu_heap import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, retain_freed_memory

libc = ctypes.CDLL("libc.so.6")
libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)

def faults_per_round():
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        tensors = [torch.ones(4_000_000) for _ in range(8)]
        del tensors
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) // 5

faults_per_round()
before = faults_per_round()
applied = retain_freed_memory()
faults_per_round()
print(before, applied, faults_per_round())
"""

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's"
)


@glibc_only
def test_freed_memory_is_reused_without_page_faults() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    before, applied, after = out.split()
    assert applied == "True"
    # 128 MB is 31,250 pages: glibc's defaults fault nearly all of them back in every round; ours none.
    assert int(before) > 10_000
    assert int(after) < 500


@glibc_only
def test_loading_a_cpu_model_applies_it(tiny_model: object) -> None:
    # The tiny_model fixture loads through load_model on the CPU; the thresholds are then set for this process.
    assert cpu_heap._applied
    assert cpu_heap.retain_freed_memory()
