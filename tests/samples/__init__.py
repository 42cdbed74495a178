"""Sample submissions, generated from source/ and release/ (never hand-edited copies).

Each assignment module lists its SAMPLES: what a student wrote in each answer cell
(the reference solution, a wrong answer, a cheat, or nothing) and the points each
test cell must earn. `python -m tests.samples` writes them to submitted/.
"""
