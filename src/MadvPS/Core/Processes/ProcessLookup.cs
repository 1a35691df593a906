using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace MadvPS.Core;

/// <summary>
/// An ID as the user gave it, resolved to the process it belongs to. A thread ID (from ps -L,
/// top -H or /proc/PID/task) names a thread of a process; memory belongs to the process, so the
/// process is what is read and advised, and the thread ID is kept beside it.
/// </summary>
internal readonly record struct ProcessTarget(int RequestedId, ProcessStat Stat)
{
    public int ProcessId => Stat.ProcessId;

    /// <summary>The ID given, when it was a thread's and not the process's own; else null.</summary>
    public int? ThreadId => RequestedId == Stat.ProcessId ? null : RequestedId;
}

/// <summary>
/// The one place that finds processes in /proc: enumeration, thread IDs, and whether a process is
/// still the one that was read.
/// </summary>
internal static class ProcessLookup
{
    /// <summary>The process IDs /proc lists now (threads other than leaders are not listed).</summary>
    public static IEnumerable<int> ProcessIds()
    {
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                yield return id;
            }
        }
    }

    /// <summary>
    /// The process an ID belongs to: the ID itself for a process, its thread group leader (Tgid
    /// of /proc/ID/status) for a thread. /proc answers for every thread ID, listed or not.
    /// </summary>
    /// <exception cref="ProcessAccessException">NotFound: no process or thread has the ID.</exception>
    public static ProcessTarget Resolve(int id)
    {
        int processId = ThreadGroupOf(id) ?? throw ProcessAccessException.NotFound(id);
        ProcessStat stat = ProcessStat.TryRead(processId) ?? throw ProcessAccessException.NotFound(id);
        return new ProcessTarget(id, stat);
    }

    /// <summary>Tgid of /proc/ID/status; null when no task has the ID.</summary>
    public static int? ThreadGroupOf(int id)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{id}/status"))
            {
                if (line.StartsWith("Tgid:", StringComparison.Ordinal))
                {
                    return int.Parse(line.AsSpan(5).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
                }
            }

            return null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException e) when (e.HResult == (int)Interop.Errno.ESRCH)
        {
            return null;
        }
    }

    /// <summary>
    /// Refuses a process that has no user address space to advise: a kernel thread, or a zombie
    /// (which the kernel answers with ESRCH, as if it had gone).
    /// </summary>
    public static void RequireAddressSpace(ProcessStat stat, string name)
    {
        if (stat.IsKernelThread)
        {
            throw KernelThread(stat, name);
        }

        if (stat.IsZombie)
        {
            throw Zombie(stat, name);
        }
    }

    public static ProcessAccessException KernelThread(ProcessStat stat, string name) =>
        new(ProcessAccessFailure.KernelThread, stat.ProcessId) { ProcessName = name };

    public static ProcessAccessException Zombie(ProcessStat stat, string name) =>
        new(ProcessAccessFailure.Zombie, stat.ProcessId) { ProcessName = name, ParentId = stat.ParentId };
}
