"""How a failed check reaches the student: the message and the line that called the check, not the checker's code.

Every visible check is wrapped by `visible_check`. When it finds a mistake it raises CheckFailed (an
AssertionError) with a sentence saying what differs and what to look at; when the student's function still holds
its stub (`raise NotImplementedError()`) it raises ExerciseNotDone, which names the function in words. In a
notebook, IPython shows either one as the student's own line that called the check, then the message: the
checker's frames are cut from the traceback (`show_briefly`, registered with IPython's `set_custom_exc` when
idnn.checks is imported). So a student never reads 20 lines of checker code, nor the messages it keeps for other
mistakes.

Any other error raised by the student's code inside a check (a shape error, a typo) keeps its traceback, down to
the student's line; the checker's frames on the way are left out of it (the one that raises it again is marked
`__tracebackhide__`, which IPython skips).
"""

import functools
import sys
import types

#: Modules whose frames are the checker's (the student never needs to read them).
CHECKER_MODULES = __name__.rsplit(".", 1)[0]


class CheckFailed(AssertionError):
    """A visible check found a mistake; the message says what differs and what to look at."""


class ExerciseNotDone(NotImplementedError):
    """The function a check was given still raises NotImplementedError: the exercise is not done yet."""


def visible_check(check):
    """Wrap a check so that its failures read as sentences (see the module's docstring)."""
    @functools.wraps(check)
    def run_check(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 (read by IPython's traceback formatter)
        try:
            return check(*args, **kwargs)
        except (CheckFailed, ExerciseNotDone):
            raise
        except NotImplementedError as error:
            raise ExerciseNotDone(not_done_message(error)) from None
        except AssertionError as error:
            if raised_by_checker(error):
                raise CheckFailed(str(error)) from None
            raise error.with_traceback(_without_checker(error.__traceback__))  # the student's own assert
        except Exception as error:  # the student's code failed inside the check: show their frames, not ours
            raise error.with_traceback(_without_checker(error.__traceback__))
    return run_check


def not_done_message(error: NotImplementedError) -> str:
    """'<function> is not implemented yet: ...', naming the innermost function outside the checker."""
    frames = [frame for frame in _frames(error.__traceback__) if not _is_checker(frame)]
    name = frames[-1].f_code.co_name if frames else "this exercise"
    return (f"{name} is not implemented yet: replace `raise NotImplementedError()` in its cell with your code, "
            f"run that cell, then run this check again.")


def raised_by_checker(error: BaseException) -> bool:
    """Whether the innermost frame of `error`'s traceback is the checker's (an assert in a check)."""
    frames = list(_frames(error.__traceback__))
    return bool(frames) and _is_checker(frames[-1])


def show_briefly(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for CheckFailed and ExerciseNotDone: the traceback down to the line that called the check.

    The traceback is cut before the first of the checker's frames, so what remains is the notebook's own cell
    (and, if the check was called from a function of the student's, that function). It is shown as any error is
    (an error output: the cell fails, nbgrader's Validate reports it), without the checker's code.
    """
    shell.showtraceback((etype, value, _until_checker(tb)), tb_offset=tb_offset)


def register_with_ipython() -> None:
    """In an IPython kernel, show failed checks briefly; anywhere else (a script, the tests) do nothing."""
    IPython = sys.modules.get("IPython")  # not imported: not in IPython, and no reason to import it
    shell = IPython.get_ipython() if IPython is not None else None
    if shell is not None:
        shell.set_custom_exc((CheckFailed, ExerciseNotDone), show_briefly)


def _frames(tb):
    return (entry.tb_frame for entry in _entries(tb))


def _is_checker(frame) -> bool:
    module = frame.f_globals.get("__name__", "")
    return module == CHECKER_MODULES or module.startswith(CHECKER_MODULES + ".")


def _without_checker(tb):
    """A copy of the traceback `tb` without the checker's frames (the student's own frames, in order)."""
    kept = [entry for entry in _entries(tb) if not _is_checker(entry.tb_frame)]
    copy = None
    for entry in reversed(kept):
        copy = types.TracebackType(copy, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return copy


def _entries(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _until_checker(tb):
    """`tb` with the checker's frames, and everything they called, left off (the traceback is changed in place)."""
    previous, entry = None, tb
    while entry is not None and not _is_checker(entry.tb_frame):
        previous, entry = entry, entry.tb_next
    if previous is None:
        return tb
    previous.tb_next = None
    return tb
