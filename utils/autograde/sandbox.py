"""Run a student's kernel inside bubblewrap, with limits, able to reach nothing but its own files.

Inside the sandbox the kernel sees:

    /usr, /bin, /lib...          the system, read-only
    a few files of /etc          the dynamic linker's cache, passwd/group, localtime (no secrets)
    the Python environment       the interpreter and the virtual environment, read-only
    the idnn package, datasets   read-only, at their usual paths (so imports work unchanged), except
                                 the trusted side: idnn/autograde is an empty read-only folder there
    /launcher/...launch.py       the launcher alone (standard library only), read-only, run as a script
    /submission                  a private, writable copy of the submission: its working directory
    /grading                     where the hidden checks save their results
    the socket directory         unix sockets to talk to the grader (no TCP: it has no network)
    /tmp                         empty and private

and nothing else: not source/, not the gradebook, not other students' files, not the
instructor's home. It has its own network namespace with no interfaces up but loopback, its
own process namespace, and dies with the grader. A trusted launcher (launch.py) sets the
resource limits and, when the grader runs as root, gives the kernel a uid of its own.

None of the grader's code (idnn.autograde: reference, verdicts, property checks, this module...) can be
read or imported inside: a read-only tmpfs covers its folder after the package is bound. The launcher,
the one piece that must run inside, is bound as a single file at LAUNCHER and run with `python -I`
(no import path of its own, no environment variables), so it needs nothing of the package.

Limits are configured in nbgrader_config.py, e.g. ``c.Sandbox.memory_bytes = 2 * 2**30``.
The per-cell time limit is nbgrader's own ``c.Execute.timeout``.
"""

import fcntl
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, Unicode
from traitlets.config import LoggingConfigurable

from ..paths import datasets_dir

INSTALL_HINT = ("Grading runs student code inside bubblewrap, which is not installed. Install it with "
                "`sudo apt-get install bubblewrap` (Debian/Ubuntu) or `sudo dnf install bubblewrap` (Fedora), "
                "or run `make setup` as root. To grade without a sandbox anyway (student code then runs with "
                "your permissions), pass --unsandboxed to idnn-grade or --Sandbox.allow_unsandboxed=True to "
                "nbgrader.")

WORKDIR = "/submission"
PROBE_DIR = "/grading"
ETC_FILES = ("ld.so.cache", "ld.so.conf", "passwd", "group", "nsswitch.conf", "localtime", "hosts", "fonts")
#: The trusted side's folder (utils/autograde, installed as idnn/autograde): hidden inside the sandbox.
TRUSTED_DIR = Path(__file__).resolve().parent
#: Where the launcher is bound, alone, inside the sandbox (its name also marks sandboxes in process listings).
LAUNCHER = "/launcher/idnn.autograde.launch.py"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing and running unsandboxed was not explicitly accepted."""


class Sandbox(LoggingConfigurable):
    """Settings of the grading sandbox (configure as c.Sandbox.<name> in nbgrader_config.py)."""

    enabled = Bool(True, help="Run student kernels inside bubblewrap.").tag(config=True)
    allow_unsandboxed = Bool(False, help="Grade without a sandbox when bubblewrap is missing. Student "
                             "code then runs with the grader's permissions.").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    cpu_seconds = Integer(600, help="CPU time of the kernel, in seconds.").tag(config=True)
    memory_bytes = Integer(2 * 2**30, help="Address space of the kernel, in bytes.").tag(config=True)
    processes = Integer(128, help="Processes and threads the kernel's user may have.").tag(config=True)
    file_bytes = Integer(64 * 2**20, help="Largest file the kernel may write, in bytes.").tag(config=True)
    total_memory_bytes = Integer(3 * 2**30, help="Memory of the whole sandbox (every process of the kernel, and "
                                 "what it writes to /tmp), in bytes, where the machine offers cgroups (v1 memory "
                                 "controller); memory_bytes limits each process's address space.").tag(config=True)
    tmp_bytes = Integer(256 * 2**20, help="Size of the kernel's private /tmp (a tmpfs, so memory), in bytes."
                        ).tag(config=True)
    open_files = Integer(256, help="Open files of the kernel.").tag(config=True)
    output_bytes = Integer(2 * 2**20, help="Output kept per notebook, in bytes; the kernel is stopped "
                           "at four times this.").tag(config=True)
    notebook_seconds = Integer(900, help="Wall-clock time for the whole notebook, in seconds.").tag(config=True)
    uid = Integer(61000, help="First user id for sandboxed kernels when grading as root: each running "
                  "kernel leases one of uid .. uid + uids - 1 of its own.").tag(config=True)
    uids = Integer(1000, help="How many user ids sandboxed kernels may lease (kernels running at once, "
                   "over every grader on this machine).").tag(config=True)

    def use_bwrap(self) -> bool:
        """True to sandbox; False to run unsandboxed (only when allowed). Raises SandboxUnavailable."""
        if not self.enabled:
            return False
        if shutil.which(self.bwrap):
            return True
        if self.allow_unsandboxed:
            self.log.warning("bubblewrap is not installed: grading WITHOUT a sandbox, as you allowed.")
            return False
        raise SandboxUnavailable(INSTALL_HINT)


LEASE_DIR = Path("/run/idnn-sandbox-uids")


class UidLease:
    """One user id, held by one running kernel, whatever else runs on the machine.

    The process limit (RLIMIT_NPROC) counts every process and thread of a uid, system-wide, so two
    kernels sharing a uid share one limit: a busy grader next door could make this kernel fail to
    start. Each kernel therefore leases a uid of its own: an exclusive flock on LEASE_DIR/<uid>.lock
    (a root-only folder), which the kernel's grading process holds until the kernel is gone and the
    operating system releases if that process dies.

    A uid of the range that has processes but whose lock is free belongs to a sandbox whose grading
    process died without taking it along (seen, rarely, when a worker is killed as its sandbox
    starts): those processes are orphans, and are killed here before anything else is leased.
    """

    def __init__(self, base: int, count: int, wait_seconds: float = 120.0):
        self._fd = None
        deadline = time.monotonic() + wait_seconds
        while True:
            reap_orphans(base, count)
            busy = _uids_with_processes()
            for uid in range(base, base + count):
                if uid in busy:
                    continue
                fd = _try_lock(uid)
                if fd is not None:
                    self.uid, self._fd = uid, fd
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"all {count} sandbox uids from {base} are in use; raise c.Sandbox.uids")
            time.sleep(0.5)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _try_lock(uid: int) -> int | None:
    """A descriptor holding uid's lease lock, or None when another process holds it."""
    LEASE_DIR.mkdir(mode=0o700, exist_ok=True)
    if LEASE_DIR.is_symlink() or LEASE_DIR.stat().st_uid != 0:
        raise RuntimeError(f"{LEASE_DIR} is not a root-owned folder; refusing to lease sandbox uids from it")
    fd = os.open(LEASE_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def reap_orphans(base: int, count: int) -> int:
    """Kill the processes of every sandbox uid in base .. base + count - 1 that no live grader holds; how many."""
    if os.getuid() != 0:
        return 0
    killed = 0
    for uid, pids in _processes_by_uid(range(base, base + count)).items():
        fd = _try_lock(uid)
        if fd is None:
            continue  # a live grader's kernel
        try:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        finally:
            os.close(fd)
    return killed


def _processes_by_uid(uids) -> dict[int, list[int]]:
    wanted, found = set(uids), {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            uid = _real_uid(entry.name)
            if uid in wanted:
                found.setdefault(uid, []).append(int(entry.name))
    return found


def _real_uid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


CGROUP_V1 = Path("/sys/fs/cgroup")
_cgroup_warned = []


def kernel_cgroups(uid: int, limits: "Sandbox") -> list[str]:
    """cgroup.procs files of a memory and a pids cgroup for the kernel leased `uid`, with the sandbox's limits.

    One cgroup per leased uid, under the grader's own cgroup (cgroup v1: the memory controller caps what all the
    kernel's processes hold together, RLIMIT_AS only each one; the pids controller caps its processes and threads
    whoever else runs). Where the machine offers no writable v1 controllers, none: the rlimits still apply.
    """
    if not uid:
        return []
    settings = {"memory": {"memory.limit_in_bytes": limits.total_memory_bytes},
                "pids": {"pids.max": limits.processes}}
    joined = []
    try:
        for controller, values in settings.items():
            folder = _own_cgroup(controller) / "idnn-sandbox" / str(uid)
            folder.mkdir(parents=True, exist_ok=True)
            for name, value in values.items():
                (folder / name).write_text(str(value))
            joined.append(str(folder / "cgroup.procs"))
    except OSError as error:
        if not _cgroup_warned:
            _cgroup_warned.append(error)
            import logging
            logging.getLogger(__name__).warning("no cgroup for sandboxed kernels (%s): per-process limits only", error)
        return []
    return joined


def _own_cgroup(controller: str) -> Path:
    """This process's cgroup folder of a v1 controller (e.g. /sys/fs/cgroup/memory/<its path>)."""
    mount = CGROUP_V1 / controller
    if not (mount / "cgroup.procs").exists():
        raise FileNotFoundError(f"no cgroup v1 {controller} controller at {mount}")
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return mount / path.lstrip("/")
    raise FileNotFoundError(f"this process is in no {controller} cgroup")


def _uids_with_processes() -> set[int]:
    """The real uids of every running process."""
    return {uid for entry in os.scandir("/proc") if entry.name.isdigit() and (uid := _real_uid(entry.name)) is not None}


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside bubblewrap and talks over unix sockets.

    Set `sandbox`, `workdir`, `probe_dir` and `socket_dir` (host paths) before starting.
    """

    def __init__(self, *, sandbox: Sandbox, workdir: Path, probe_dir: Path, socket_dir: Path,
                 extra_env: dict[str, str], **kwargs):
        super().__init__(transport="ipc", connection_file=str(socket_dir / "kernel.json"), **kwargs)
        self.sandbox, self.workdir, self.probe_dir, self.socket_dir = sandbox, workdir, probe_dir, socket_dir
        self.extra_env = extra_env
        self.uid_lease = UidLease(sandbox.uid, sandbox.uids) if os.getuid() == 0 else None
        self.kernel_uid = self.uid_lease.uid if self.uid_lease else 0
        for path in (workdir, probe_dir, socket_dir):
            give_to(path, self.kernel_uid)

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        give_to(Path(self.connection_file), self.kernel_uid)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        # Signals cannot reach a process in another pid namespace: interrupt with a message instead.
        self.kernel_spec.interrupt_mode = "message"
        kernel = isolated_kernel(super().format_kernel_cmd(extra_arguments))
        limits = self.sandbox
        tether = [sys.executable, "-m", "idnn.autograde.tethered", str(os.getpid())]
        for procs in kernel_cgroups(self.kernel_uid, limits):
            tether += ["--join", procs]
        tether.append("--")
        sandbox = bwrap_command(limits.bwrap, self.workdir, self.probe_dir, self.socket_dir, self._sandbox_env(),
                                tmp_bytes=limits.tmp_bytes)
        return tether + sandbox + launcher_command(limits, self.kernel_uid) + kernel

    def _sandbox_env(self) -> dict[str, str]:
        env = {
            "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "IPYTHONDIR": "/tmp/.ipython",
            "MPLCONFIGDIR": "/tmp/.matplotlib",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            # Small matrices gain nothing from threads, and parallel graders share the cores.
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "IDNN_DATASETS": str(datasets_dir().resolve()),
        }
        env.update(self.extra_env)
        return env


#: How the kernel starts: `python -P` puts no folder of the submission on sys.path, so no file of the submission
#: (an ipykernel_launcher.py, or a module the kernel only tries to import, such as orjson.py or storemagic.py) can
#: run before the kernel answers: such a file could make every start fail, which would look like the machine's
#: fault. Once the kernel has answered, ProbedExecute appends the working folder to sys.path (WORKDIR_ON_PATH),
#: so the student's own modules import in cells as in Jupyter, after the real packages.
KERNEL_BOOT = "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()"


def isolated_kernel(command: list[str]) -> list[str]:
    """[python, -m, ipykernel_launcher, ARG...] -> [python, -P, -c, KERNEL_BOOT, ARG...]; other kernels unchanged."""
    if command[1:3] == ["-m", "ipykernel_launcher"]:
        return [command[0], "-P", "-c", KERNEL_BOOT, *command[3:]]
    return command


def launcher_command(limits: Sandbox, uid: int) -> list[str]:
    """The launcher's command inside the sandbox (everything before the kernel's own command)."""
    return [sys.executable, "-I", LAUNCHER, "--uid", str(uid),
            "--cpu", str(limits.cpu_seconds), "--memory", str(limits.memory_bytes),
            "--processes", str(limits.processes), "--file-size", str(limits.file_bytes),
            "--open-files", str(limits.open_files), "--"]


def bwrap_command(bwrap: str, workdir: Path, probe_dir: Path, socket_dir: Path, env: dict[str, str],
                  tmp_bytes: int = 256 * 2**20) -> list[str]:
    """The bubblewrap invocation (everything before the program it runs)."""
    import idnn

    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--perms", "1777",
            "--size", str(tmp_bytes), "--tmpfs", "/tmp"]  # /tmp is memory: sized, so writing there cannot fill it
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    made = {Path("/"), Path("/usr"), Path("/tmp"), Path("/etc"), Path("/proc"), Path("/dev")}
    readonly = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
                Path(idnn.__file__).resolve().parent, datasets_dir().resolve()}
    for path in sorted(p for p in readonly if not _under(p, Path("/usr"))):
        args += _parents(path, made) + ["--ro-bind", str(path), str(path)]
    # The trusted side, bound above with the package (or with the environment it is installed in), is covered by
    # an empty read-only tmpfs: no file of it can be read or imported. Only the launcher comes in, as one file.
    args += ["--perms", "0555", "--tmpfs", str(TRUSTED_DIR), "--remount-ro", str(TRUSTED_DIR)]
    args += _parents(Path(LAUNCHER), made) + ["--ro-bind", str(TRUSTED_DIR / "launch.py"), LAUNCHER]
    args += _parents(socket_dir, made) + ["--bind", str(socket_dir), str(socket_dir)]
    args += ["--bind", str(workdir), WORKDIR, "--bind", str(probe_dir), PROBE_DIR, "--chdir", WORKDIR,
             "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


def _parents(path: Path, made: set[Path]) -> list[str]:
    """Create path's missing ancestors as world-traversable directories (bubblewrap would make them 0700)."""
    args = []
    for parent in reversed(path.parents):
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    made.add(path)
    return args


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def give_to(path: Path, uid: int) -> None:
    """Let the sandboxed kernel's user own `path` (recursively for directories)."""
    if not uid:
        return
    os.chown(path, uid, uid)
    if path.is_dir():
        for child in path.rglob("*"):
            os.chown(child, uid, uid, follow_symlinks=False)
