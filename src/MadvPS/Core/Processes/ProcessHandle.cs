using System;
using System.Diagnostics;
using System.Threading;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>
/// A pidfd on a process that has been proved to be the one the caller means, and the freeze
/// that can hold it still while it is advised.
/// </summary>
internal sealed class ProcessHandle : IDisposable
{
    private readonly object _freezeLock = new();
    private bool _frozenByUs;
    private FreezeGuard? _guard;

    private readonly ProcDirectory _directory;

    private ProcessHandle(SafePidfdHandle pidfd, ProcDirectory directory, ProcessStat stat)
    {
        Pidfd = pidfd;
        _directory = directory;
        Stat = stat;
    }

    public SafePidfdHandle Pidfd { get; }
    public ProcessStat Stat { get; }
    public int ProcessId => Stat.ProcessId;
    public bool IsSelf => Stat.ProcessId == Environment.ProcessId;

    /// <summary>
    /// Opens a pidfd on <paramref name="processId"/> and checks that it is the process expected:
    /// the pidfd is opened first, then /proc/PID (held open: every later read goes through it),
    /// whose stat must show the expected start time, then the pidfd must still reach a live
    /// process. A process that died and gave its PID to another between these steps fails one of
    /// them, so the pidfd and the directory can only be the expected process.
    /// </summary>
    /// <param name="expectedStartTime">Null to take whatever process has the PID now.</param>
    /// <param name="expectedBootId">Null to skip the boot check (a live PID given by the user).</param>
    /// <param name="readOn">The host the object says it was read on (PSComputerName of remoting output), for the error only.</param>
    public static ProcessHandle Open(int processId, ulong? expectedStartTime, string? expectedBootId, string? readOn = null)
    {
        if (expectedBootId is not null && !string.Equals(expectedBootId, ProcessIdentity.CurrentBootId, StringComparison.OrdinalIgnoreCase))
        {
            throw BootMismatch(processId, expectedBootId, readOn, ProcessActivity.Advising);
        }

        SafePidfdHandle pidfd;
        try
        {
            pidfd = Libc.PidfdOpen(processId);
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.EINVAL or Errno.ENOENT)
        {
            // ENOENT (6.9 and later) or EINVAL (before): the ID is a thread's, not a process's.
            // Callers resolve thread IDs first (ProcessLookup.Resolve), so this is an ID gone.
            throw ProcessAccessException.NotFound(processId, e);
        }
        catch (LinuxErrorException e)
        {
            throw new ProcessAccessException(ProcessAccessFailure.SystemError, processId, e);
        }

        ProcDirectory? directory = null;
        try
        {
            directory = ProcDirectory.Open(processId);
            ProcessStat stat = directory.ReadStat()
                ?? throw new ProcessAccessException(ProcessAccessFailure.Exited, processId);
            if (expectedStartTime is ulong expected && stat.StartTime != expected)
            {
                throw StartTimeMismatch(processId, expected, stat, ProcessActivity.Advising);
            }

            try
            {
                Libc.PidfdSendSignal(pidfd, 0);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.ESRCH)
            {
                throw new ProcessAccessException(ProcessAccessFailure.Exited, processId, e);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.EPERM)
            {
                // Signal 0 still checks permission; the pidfd and /proc agree, which is what matters.
            }

            return new ProcessHandle(pidfd, directory, stat);
        }
        catch (ProcessAccessException e) when (e.Failure is ProcessAccessFailure.NotFound && directory is null)
        {
            pidfd.Dispose();
            throw new ProcessAccessException(ProcessAccessFailure.Exited, processId, e);
        }
        catch
        {
            directory?.Dispose();
            pidfd.Dispose();
            throw;
        }
    }

    // Objects read on one host or boot never reach a process of another: a PID there names another process.
    internal static ProcessAccessException BootMismatch(int processId, string expectedBootId, string? readOn, ProcessActivity activity) =>
        new(ProcessAccessFailure.IdentityChanged, processId)
        {
            Activity = activity,
            Mismatch = IdentityCheck.BootId,
            Expected = expectedBootId,
            Found = ProcessIdentity.CurrentBootId,
            ReadOn = string.IsNullOrEmpty(readOn) ? null : readOn,
        };

    // The PID now names another process than the one that was read.
    internal static ProcessAccessException StartTimeMismatch(int processId, ulong expected, ProcessStat found, ProcessActivity activity) =>
        new(ProcessAccessFailure.IdentityChanged, processId)
        {
            Activity = activity,
            ProcessName = found.Command,
            Mismatch = IdentityCheck.StartTime,
            Expected = expected.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Found = found.StartTime.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

    /// <summary>
    /// Stops the process with SIGSTOP through the pidfd until <see cref="Resume"/> or Dispose, so
    /// that its address space cannot change between the check of its mappings and the advice,
    /// then waits until every thread in /proc/PID/task shows stopped (T or t). A process that was
    /// already stopped is left as it is, and stays stopped afterwards; the calling process itself
    /// is never stopped. Before the stop a guard is armed that resumes the process after
    /// <see cref="FreezeRequest.MaxLength"/>, on SIGTERM, SIGHUP or SIGQUIT to this process, and
    /// (through a guardian process) when this process dies.
    /// </summary>
    /// <returns>Frozen is false, naming a thread and its state, when some thread did not stop
    /// by the deadline: a process waiting in vfork (state D) does not stop until its child execs.</returns>
    public FreezeOutcome Freeze(FreezeRequest request)
    {
        if (IsSelf)
        {
            return new FreezeOutcome(false, false, true, null, null);
        }

        lock (_freezeLock)
        {
            if (_frozenByUs)
            {
                return WaitForEveryThread(request.StopDeadline, alreadyStopped: false);
            }

            ProcessStat? now = _directory.ReadStat();
            if (now is null)
            {
                throw new ProcessAccessException(ProcessAccessFailure.Exited, ProcessId);
            }

            if (now.Value.IsStopped)
            {
                return WaitForEveryThread(TimeSpan.Zero, alreadyStopped: true);
            }

            _guard = FreezeGuard.Arm(Resume, request.MaxLength, ProcessId, Stat.StartTime);
            try
            {
                Libc.PidfdSendSignal(Pidfd, Libc.SIGSTOP);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.ESRCH)
            {
                _guard.Dispose();
                _guard = null;
                throw new ProcessAccessException(ProcessAccessFailure.Exited, ProcessId, e);
            }
            catch
            {
                _guard.Dispose();
                _guard = null;
                throw;
            }

            _frozenByUs = true;
        }

        return WaitForEveryThread(request.StopDeadline, alreadyStopped: false);
    }

    // SIGSTOP is delivered asynchronously, thread by thread: wait until the kernel shows every
    // thread stopped, or the deadline passes.
    private FreezeOutcome WaitForEveryThread(TimeSpan deadline, bool alreadyStopped)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            (int Thread, char State)? running = FirstRunningThread();
            if (running is null)
            {
                return new FreezeOutcome(alreadyStopped || IsFrozenByUs, alreadyStopped, false, null, null);
            }

            // Resume (a stop of the pipeline, or the freeze's bound, from another thread) ends the wait.
            if ((!alreadyStopped && !IsFrozenByUs) || clock.Elapsed >= deadline)
            {
                return new FreezeOutcome(false, alreadyStopped, false, running.Value.Thread, running.Value.State);
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>The first thread of the process whose state is not stopped (T, t), or null when all are.</summary>
    internal (int Thread, char State)? FirstRunningThread()
    {
        string[] tasks;
        try
        {
            tasks = System.IO.Directory.GetDirectories($"{_directory.Path}/task");
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
        {
            throw new ProcessAccessException(ProcessAccessFailure.Exited, ProcessId, e);
        }

        foreach (string task in tasks)
        {
            string text;
            try
            {
                text = System.IO.File.ReadAllText($"{task}/stat");
            }
            catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
            {
                continue; // The thread has exited.
            }

            int close = text.LastIndexOf(')');
            char state = close >= 0 && close + 2 < text.Length ? text[close + 2] : '?';
            if (state is not ('T' or 't'))
            {
                return (int.Parse(System.IO.Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture), state);
            }
        }

        return null;
    }

    public bool IsFrozenByUs
    {
        get { lock (_freezeLock) { return _frozenByUs; } }
    }

    /// <summary>Resumes a process this handle stopped; safe to call from any thread, any number of times.</summary>
    public void Resume()
    {
        lock (_freezeLock)
        {
            if (!_frozenByUs)
            {
                return;
            }

            _frozenByUs = false;
            try
            {
                Libc.PidfdSendSignal(Pidfd, Libc.SIGCONT);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.ESRCH)
            {
                // Gone: nothing to resume.
            }
            finally
            {
                _guard?.Dispose();
                _guard = null;
            }
        }
    }

    public void Dispose()
    {
        Resume();
        Pidfd.Dispose();
        _directory.Dispose();
    }
}
