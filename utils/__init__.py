"""Helpers for the Improving Deep Neural Networks workbook.

Students import these from every weekly notebook:

    idnn.data     load the course's HDF5 datasets
    idnn.nets     the fixed parts of each network (activations, forward/backward passes, cost)
    idnn.plots    cost curves, datasets and decision boundaries
    idnn.checks   visible "check your work" functions, one module per assignment
    idnn.probe    the recorder that hidden grading checks use inside the notebook

Instructors also use ``idnn.autograde`` (the trusted side of grading) and ``idnn.build_datasets``.
Nothing in this package contains the solution to an exercise.
"""

__version__ = "0.1.0"
