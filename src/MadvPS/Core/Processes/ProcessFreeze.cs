using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace MadvPS.Core;

/// <summary>How long a freeze may last, and how long to wait for every thread to show stopped.</summary>
internal sealed record FreezeRequest(TimeSpan MaxLength, TimeSpan StopDeadline)
{
    public static readonly TimeSpan DefaultMaxLength = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultStopDeadline = TimeSpan.FromSeconds(1);
}

/// <summary>What a freeze achieved.</summary>
internal sealed record FreezeOutcome(bool Frozen, bool WasAlreadyStopped, bool IsSelf, int? RunningThread, char? RunningThreadState)
{
    /// <summary>Every thread was stopped, and was so before the freeze (it stays stopped).</summary>
    public static FreezeOutcome AlreadyStopped() => new(true, true, false, null, null);
}

/// <summary>
/// The parts of a freeze that must work even when this process does not get to resume the
/// target itself: a bound on the freeze's length (a timer), SIGTERM, SIGHUP, SIGQUIT and SIGINT
/// to this process (PosixSignalRegistration), and this process's death by SIGKILL, which only another process
/// can see: a guardian.
/// </summary>
/// <remarks>
/// The guardian is a /bin/sh started with a pipe as its standard input; this process holds the
/// only write end (the runtime opens it close-on-exec, so no other child inherits it). At resume
/// this process writes "done" and closes the pipe, and the guardian exits. If this process dies
/// first, by any signal, the kernel closes the write end, the guardian's read returns at end of
/// file, and the guardian sends SIGCONT to the target, after checking in /proc/PID/stat that the
/// PID still has the start time the target had (so a reused PID is never signalled). The
/// guardian ignores SIGHUP, SIGINT and SIGTERM, which reach it with this process's group (a
/// dropped SSH session, Ctrl+C). Cost: one fork and exec of dash (about 1 ms and 1 MiB) per
/// freeze, and no polling.
/// </remarks>
internal sealed class FreezeGuard : IDisposable
{
    // $1 the target's PID, $2 its start time (stat field 22). After "pid (comm) " is cut off,
    // field 3 is $1, so field 22 is ${20}.
    private const string GuardianScript =
        "trap '' HUP INT TERM; p=$1; t=$2; IFS= read -r line; [ \"$line\" = done ] && exit 0; " +
        "IFS= read -r s < /proc/$p/stat || exit 0; s=${s##*) }; set -- $s; [ \"${20}\" = \"$t\" ] && kill -CONT $p; exit 0";

    private static readonly object s_lock = new();
    private static readonly HashSet<FreezeGuard> s_active = new();
    private static List<PosixSignalRegistration>? s_signals;

    private readonly Action _resume;
    private readonly Timer _timer;
    private Process? _guardian;

    private FreezeGuard(Action resume, TimeSpan maxLength, int processId, ulong startTime)
    {
        _resume = resume;
        _guardian = StartGuardian(processId, startTime);
        _timer = new Timer(_ => _resume(), null, maxLength, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Arms the guards before the target is stopped; <paramref name="resume"/> must be thread safe and idempotent.</summary>
    public static FreezeGuard Arm(Action resume, TimeSpan maxLength, int processId, ulong startTime)
    {
        var guard = new FreezeGuard(resume, maxLength, processId, startTime);
        lock (s_lock)
        {
            s_active.Add(guard);
            s_signals ??= new List<PosixSignalRegistration>
            {
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal),
                // Ctrl+C too: PowerShell's own handler (the pipeline's StopProcessing) runs as well,
                // but it may wait for the call in progress; this one resumes the targets at once.
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            };
        }

        return guard;
    }

    /// <summary>Whether the guardian process runs (for the tests and -Verbose).</summary>
    public bool HasGuardian => _guardian is { HasExited: false };

    // The signal's default action (the end of this process) follows: only the targets are resumed.
    private static void OnSignal(PosixSignalContext context)
    {
        FreezeGuard[] guards;
        lock (s_lock)
        {
            guards = new FreezeGuard[s_active.Count];
            s_active.CopyTo(guards);
        }

        foreach (FreezeGuard guard in guards)
        {
            guard._resume();
        }
    }

    private static Process? StartGuardian(int processId, ulong startTime)
    {
        if (!File.Exists("/bin/sh"))
        {
            return null;
        }

        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(GuardianScript);
        info.ArgumentList.Add("madvps-freeze-guardian");
        info.ArgumentList.Add(processId.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(startTime.ToString(CultureInfo.InvariantCulture));
        try
        {
            return Process.Start(info);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return null;
        }
    }

    /// <summary>The target has been resumed (or was never stopped): disarm every guard.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        lock (s_lock)
        {
            s_active.Remove(this);
            if (s_active.Count == 0 && s_signals is not null)
            {
                foreach (PosixSignalRegistration registration in s_signals)
                {
                    registration.Dispose();
                }

                s_signals = null;
            }
        }

        Process? guardian = Interlocked.Exchange(ref _guardian, null);
        if (guardian is not null)
        {
            try
            {
                guardian.StandardInput.WriteLine("done");
                guardian.StandardInput.Close();
            }
            catch (IOException)
            {
                // The guardian is gone already.
            }

            guardian.Dispose();
        }
    }
}
