"""coachd's benchmark and evaluation tools, kept outside the product package (never shipped).

`python -m bench.replies` scores the reply reader on the people corpus and on public fixtures.
"""
