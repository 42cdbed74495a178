"""The trusted side of grading: it runs in the instructor's process, never in a student's kernel.

    reference        reference results from the source notebook's own definitions
    verdicts         compare a student's recorded results with the reference
    preprocessors    nbgrader hooks (ProbedExecute, ApplyVerdicts) wired in by nbgrader_config.py
    gradebook_table  scores from the gradebook, as a table
    course           where a course keeps its gradebook, and its configuration
    sandbox, launch  the bubblewrap sandbox and the launcher that starts kernels inside it
    runner, report   grading a class in parallel, and its reports; cli is `idnn-grade`
    properties       checks for answers with many right values (random splits)
"""
