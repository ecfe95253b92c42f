"""Many jobs: content × style grids (the paper's evaluation), batches of contents, Dask scale-out."""
