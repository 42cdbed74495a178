"""The trusted side of grading: it runs in the instructor's process, never in a student's kernel.

    reference        reference results from the source notebook's own definitions
    verdicts         compare a student's recorded results with the reference
    preprocessors    nbgrader hooks (ProbedExecute, ApplyVerdicts) wired in by nbgrader_config.py
    gradebook_table  scores from the gradebook, as a table
"""
