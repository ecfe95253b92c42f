"""Change the style or material of part of an image, in napari and on the command line.

Importing the package is cheap on purpose: napari imports it at start-up, so torch and the
other heavy modules are imported only inside the functions that need them.
"""

__version__ = "0.1.0"
