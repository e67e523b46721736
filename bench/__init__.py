"""coachd's benchmark, outside the product package: run it with `python -m bench`."""
