"""Weakly supervised segmentation: classifier, DCSM saliency, dense CRF, scoring."""
