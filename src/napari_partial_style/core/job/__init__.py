"""The job as a document (document.py), the one pipeline that brings its results up to date
(pipeline.py), its history (history.py), its record and replay (record.py, replay.py), the stages
it runs (stages.py) over the shared networks (runtime.py), and the rules between stages (rules.py)."""
