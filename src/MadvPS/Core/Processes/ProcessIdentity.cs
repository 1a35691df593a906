using System;
using System.Globalization;
using System.IO;

namespace MadvPS.Core;

/// <summary>
/// What makes a process the one a user saw: its PID, its start time in clock ticks after boot
/// (/proc/PID/stat field 22) and the boot it ran in. A PID is reused; the three together are not.
/// </summary>
internal readonly record struct ProcessIdentity(int ProcessId, ulong StartTime, string BootId)
{
    private static string? s_bootId;

    /// <summary>This host's boot id, read once.</summary>
    public static string CurrentBootId =>
        s_bootId ??= File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

    private static ulong? s_pidNamespace;

    /// <summary>
    /// The inode of this process's PID namespace (/proc/self/ns/pid), in which the PIDs it reads
    /// are numbered; 0 when it cannot be read. A PID read in another namespace names another process here.
    /// </summary>
    public static ulong CurrentPidNamespace => s_pidNamespace ??= ReadPidNamespace();

    private static ulong ReadPidNamespace()
    {
        try
        {
            return Interop.Libc.Statx("/proc/self/ns/pid\0"u8, "/proc/self/ns/pid").Inode;
        }
        catch (Interop.LinuxErrorException)
        {
            return 0;
        }
    }
}

/// <summary>What /proc/PID/stat says of a process: fields 1 to 4, 9 (flags) and 22.</summary>
internal readonly record struct ProcessStat(int ProcessId, string Command, char State, ulong StartTime, uint Flags = 0, int ParentId = 0)
{
    /// <summary>PF_KTHREAD of include/linux/sched.h: the task is a kernel thread, with no user address space.</summary>
    public const uint KernelThreadFlag = 0x00200000;

    public bool IsStopped => State is 'T' or 't';

    /// <summary>
    /// PF_EXITING of include/linux/sched.h: the task is in do_exit. exit_signals sets it before
    /// exit_mm drops the address space, and stat shows the task as running (R or D) until
    /// exit_notify makes it a zombie, so only this flag tells an exiting process from a live one
    /// in that window (Linux 2.6 onwards; checked on 6.18 by ProcDirectoryTests).
    /// </summary>
    public const uint ExitingFlag = 0x00000004;

    public bool IsKernelThread => (Flags & KernelThreadFlag) != 0;

    /// <summary>In do_exit: its address space is going or gone, though it is not a zombie yet.</summary>
    public bool IsExiting => (Flags & ExitingFlag) != 0;

    /// <summary>Exited and not yet reaped by its parent (Z), or being reaped (X): no address space left.</summary>
    public bool IsZombie => State is 'Z' or 'X';

    public ProcessIdentity Identity => new(ProcessId, StartTime, ProcessIdentity.CurrentBootId);

    /// <summary>Reads /proc/PID/stat; null when no such process exists.</summary>
    public static ProcessStat? TryRead(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException e) when (e.HResult == (int)Interop.Errno.ESRCH)
        {
            return null;
        }

        return Parse(processId, text);
    }

    /// <summary>
    /// The command is between the first '(' and the last ')': it may itself hold spaces and
    /// parentheses. Field 3 (state) follows, then 4 (ppid); flags is field 9 and starttime
    /// field 22 (proc_pid_stat(5)).
    /// </summary>
    public static ProcessStat Parse(int processId, string text)
    {
        int open = text.IndexOf('(');
        int close = text.LastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= text.Length)
        {
            throw new FormatException($"/proc/{processId}/stat is not in the form 'pid (comm) state ...'.");
        }

        string command = text.Substring(open + 1, close - open - 1);
        string[] fields = text.Substring(close + 2).Split(' ');
        const int flagsIndex = 9 - 3, startTimeIndex = 22 - 3;
        if (fields.Length <= startTimeIndex)
        {
            throw new FormatException($"/proc/{processId}/stat has fewer than 22 fields.");
        }

        return new ProcessStat(
            processId,
            command,
            fields[0][0],
            ulong.Parse(fields[startTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture),
            uint.Parse(fields[flagsIndex], NumberStyles.None, CultureInfo.InvariantCulture),
            int.Parse(fields[4 - 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }
}
