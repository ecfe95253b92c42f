"""Classifier sources: one module per named source, so a new source is one new file.

A module here defines `WEIGHTS` (the pretrained files it needs, see core/io/weights.py; may be
empty), `SCORE_KIND` ("softmax" or "sigmoid": the scores its network gives), `load(found)` (the classifier, from {weight key: path}) and `classes()` (its class names,
read cheaply for napari's class list). A source can also be registered at run time (`register`),
as the tests' tiny network is. Any other source string is a checkpoint file made by `train`.
The registry is core/registry.py's `CLASSIFIER_SOURCES`; listing the names imports nothing.
"""

from __future__ import annotations

from napari_partial_style.core.registry import CLASSIFIER_SOURCES

names = CLASSIFIER_SOURCES.names
# The module (or registered object) of a named source, or None when the string is a checkpoint path.
get = CLASSIFIER_SOURCES.get
# (name, source): an object with WEIGHTS, SCORE_KIND, load and classes, as a module here.
register = CLASSIFIER_SOURCES.register
