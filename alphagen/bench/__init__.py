"""Batch benchmarking: run the pipeline over many problems, judge the picks, and score the run.

metrics   pass@k and n@k estimators (Chen et al. 2021; AlphaCode's subsampling)
records   JSON round-trips of what a run stores
store     the resumable run directory (append-only JSON lines, atomic summaries)
verdicts  judging one program on hidden tests (shared with `alphagen judge`)
runner    the loop over problems: solve, judge, score, commit
summary   aggregate metrics and the solve-rate curve
report    terminal tables, solve_rate.png and report.html
"""
