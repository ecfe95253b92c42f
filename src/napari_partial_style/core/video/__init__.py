"""Clips and stacks: frames streamed from arrays, folders, multi-page TIFFs and video files
(frames.py), optical flow, warping and occlusion (flow.py), and the region followed through the
clip (track.py)."""
