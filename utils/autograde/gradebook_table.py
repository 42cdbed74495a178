"""Read scores out of nbgrader's gradebook and print them as a table.

    python -m idnn.autograde.gradebook_table initialization [--db sqlite:///gradebook.db]
"""

import argparse

from nbgrader.api import Gradebook, MissingEntry

from .staging import shown


def cell_scores(db_url: str, assignment: str) -> dict[str, dict[str, float | None]]:
    """{student: {test cell grade_id: auto score}} for every submission of `assignment`."""
    scores: dict[str, dict[str, float | None]] = {}
    with Gradebook(db_url) as gb:
        try:
            submissions = gb.find_assignment(assignment).submissions
        except MissingEntry:
            return {}
        for submission in submissions:
            row = scores.setdefault(submission.student.id, {})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    row[grade.name] = grade.score
    return scores


def max_scores(db_url: str, assignment: str) -> dict[str, float]:
    with Gradebook(db_url) as gb:
        return {cell.name: cell.max_score
                for notebook in gb.find_assignment(assignment).notebooks for cell in notebook.grade_cells}


def format_table(assignment: str, scores: dict, maxima: dict[str, float]) -> str:
    cells = sorted(maxima)
    short = [c.removeprefix("test_") for c in cells]
    width = max([len("student")] + [len(shown(s)) for s in scores]) + 2
    lines = [f"Assignment {assignment}: {len(scores)} submissions, {sum(maxima.values()):g} points",
             "student".ljust(width) + "".join(f"{s:>{max(len(s), 5) + 2}}" for s in short) + "   total"]
    for student in sorted(scores):
        row = scores[student]
        values = "".join(f"{_fmt(row.get(c)):>{max(len(s), 5) + 2}}" for c, s in zip(cells, short))
        total = sum(v or 0 for v in row.values())
        lines.append(shown(student).ljust(width) + values + f"   {total:g}/{sum(maxima.values()):g}")
    return "\n".join(lines)


def _fmt(score: float | None) -> str:
    return "-" if score is None else f"{score:g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print the autograded scores of an assignment.")
    parser.add_argument("assignment")
    parser.add_argument("--db", default="sqlite:///gradebook.db", help="nbgrader db_url")
    args = parser.parse_args(argv)
    print(format_table(args.assignment, cell_scores(args.db, args.assignment), max_scores(args.db, args.assignment)))


if __name__ == "__main__":
    main()
