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

    private ProcessHandle(SafePidfdHandle pidfd, ProcessStat stat)
    {
        Pidfd = pidfd;
        Stat = stat;
    }

    public SafePidfdHandle Pidfd { get; }
    public ProcessStat Stat { get; }
    public int ProcessId => Stat.ProcessId;
    public bool IsSelf => Stat.ProcessId == Environment.ProcessId;

    /// <summary>
    /// Opens a pidfd on <paramref name="processId"/> and checks that it is the process expected:
    /// the pidfd is opened first, then /proc/PID/stat must show the expected start time, then the
    /// pidfd must still reach a live process. A process that died and gave its PID to another
    /// between these steps fails one of them, so the pidfd can only be the expected process.
    /// </summary>
    /// <param name="expectedStartTime">Null to take whatever process has the PID now.</param>
    /// <param name="expectedBootId">Null to skip the boot check (a live PID given by the user).</param>
    /// <param name="readOn">The host the object says it was read on (PSComputerName of remoting output), for the error only.</param>
    public static ProcessHandle Open(int processId, ulong? expectedStartTime, string? expectedBootId, string? readOn = null)
    {
        if (expectedBootId is not null && !string.Equals(expectedBootId, ProcessIdentity.CurrentBootId, StringComparison.OrdinalIgnoreCase))
        {
            throw new ProcessAccessException(ProcessAccessFailure.IdentityChanged, processId, BootMismatch(processId, expectedBootId, readOn));
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
            throw new ProcessAccessException(ProcessAccessFailure.SystemError, processId,
                $"A pidfd for process {processId} could not be opened: {e.Message} Nothing was sent.", e);
        }

        try
        {
            ProcessStat stat = ProcessStat.TryRead(processId)
                ?? throw new ProcessAccessException(ProcessAccessFailure.Exited, processId, $"Process {processId} has exited.");
            if (expectedStartTime is ulong expected && stat.StartTime != expected)
            {
                throw new ProcessAccessException(ProcessAccessFailure.IdentityChanged, processId,
                    $"Process {processId} is no longer the process that was read: that one started at tick {expected} after boot, the process now at PID {processId} ({stat.Command}) at tick {stat.StartTime}. Nothing was advised; read its mappings again.");
            }

            try
            {
                Libc.PidfdSendSignal(pidfd, 0);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.ESRCH)
            {
                throw new ProcessAccessException(ProcessAccessFailure.Exited, processId, $"Process {processId} has exited.", e);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.EPERM)
            {
                // Signal 0 still checks permission; the pidfd and /proc agree, which is what matters.
            }

            return new ProcessHandle(pidfd, stat);
        }
        catch
        {
            pidfd.Dispose();
            throw;
        }
    }

    // Objects read on one host or boot never reach a process of another: a PID there names another process.
    private static string BootMismatch(int processId, string expectedBootId, string? readOn)
    {
        string here = $"this host ({Environment.MachineName}) is in boot {ProcessIdentity.CurrentBootId}";
        if (expectedBootId.Length == 0)
        {
            return $"The object for process {processId} has an empty BootId, so the host and boot it was read in cannot be checked; {here}. Nothing was advised: read the mappings again on this host.";
        }

        if (string.IsNullOrEmpty(readOn))
        {
            return $"The object for process {processId} was read in boot {expectedBootId}, but {here}: it was read on another host or before a reboot. Nothing was advised: read the mappings again on this host.";
        }

        return $"The object for process {processId} was read on {readOn} in boot {expectedBootId}, but {here}: it was read on another host or before a reboot. Nothing was advised: advise it on the host it was read on (Invoke-Command -HostName {readOn} {{ $using:mappings | Invoke-MemoryAdvice ... }}), or read the mappings again here.";
    }

    /// <summary>
    /// Stops the process with SIGSTOP until <see cref="Resume"/> or Dispose, so that its address
    /// space cannot change between reading its mappings and advising them. A process that was
    /// already stopped is left as it is, and stays stopped afterwards.
    /// </summary>
    public void Freeze()
    {
        lock (_freezeLock)
        {
            ProcessStat? now = ProcessStat.TryRead(ProcessId);
            if (now is null || now.Value.IsStopped || IsSelf)
            {
                return;
            }

            Libc.PidfdSendSignal(Pidfd, Libc.SIGSTOP);
            _frozenByUs = true;
        }

        // SIGSTOP is delivered asynchronously: wait until the kernel shows the process stopped.
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 1000)
        {
            // Resume (a stop of the pipeline, from another thread) ends the wait: the SIGCONT it
            // sent means the process will not show as stopped.
            if (!IsFrozenByUs || ProcessStat.TryRead(ProcessId) is not ProcessStat state || state.IsStopped)
            {
                return;
            }

            Thread.Sleep(1);
        }
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
        }
    }

    public void Dispose()
    {
        Resume();
        Pidfd.Dispose();
    }
}
