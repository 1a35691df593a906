using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace MadvPS.Core;

/// <summary>What a measurement tells its caller, on the caller's own thread.</summary>
internal interface IAccessObserver
{
    /// <summary>Called about every <see cref="AccessSession.Tick"/> while a window runs.</summary>
    void Waiting(int window, TimeSpan elapsed);

    /// <summary>A window ended and every process still measured has its figures for it.</summary>
    void WindowCompleted(int window, IReadOnlyList<MeasuredProcess> processes);

    /// <summary>A process dropped out (it exited, or its smaps could not be read); it is disposed afterwards.</summary>
    void Failed(MeasuredProcess process, Exception error);
}

/// <summary>
/// The measurement loop: for each window, clear every process, wait, read every process. The
/// processes share the windows, so measuring many takes as long as measuring one.
/// </summary>
internal static class AccessSession
{
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Runs the windows. Returns true when all were completed, false when cancelled. A
    /// cancellation cuts the wait at once; the window it cuts is not counted and nothing is
    /// cleared after it. Processes that fail are reported, disposed and removed from the list.
    /// </summary>
    public static bool Run(List<MeasuredProcess> processes, TimeSpan window, int windows, CancellationToken cancellation, IAccessObserver observer)
    {
        if (window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), "A window must be longer than zero.");
        }

        for (int w = 0; w < windows; w++)
        {
            if (!ForEach(processes, p => p.Clear(), cancellation, observer))
            {
                return false;
            }

            if (processes.Count == 0)
            {
                return true;
            }

            var clock = Stopwatch.StartNew();
            while (true)
            {
                TimeSpan left = window - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                if (cancellation.WaitHandle.WaitOne(left < Tick ? left : Tick))
                {
                    return false;
                }

                observer.Waiting(w, clock.Elapsed);
            }

            if (!ForEach(processes, p => p.Sample(), cancellation, observer))
            {
                return false;
            }

            observer.WindowCompleted(w, processes);
        }

        return true;
    }

    private static bool ForEach(List<MeasuredProcess> processes, Action<MeasuredProcess> step, CancellationToken cancellation, IAccessObserver observer)
    {
        for (int i = 0; i < processes.Count; i++)
        {
            if (cancellation.IsCancellationRequested)
            {
                return false;
            }

            MeasuredProcess process = processes[i];
            try
            {
                step(process);
            }
            catch (Exception e) when (e is ProcessAccessException or SmapsFormatException or Interop.LinuxErrorException or System.IO.IOException)
            {
                processes.RemoveAt(i--);
                try
                {
                    observer.Failed(process, e);
                }
                finally
                {
                    process.Dispose();
                }
            }
        }

        return true;
    }
}
