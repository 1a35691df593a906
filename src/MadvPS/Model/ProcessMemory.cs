using MadvPS.Core;

namespace MadvPS;

/// <summary>The totals of one process, from <c>/proc/PID/smaps_rollup</c>. Sizes are in bytes.</summary>
public sealed class ProcessMemory
{
    public int ProcessId { get; set; }
    /// <summary>The thread ID that was given (to -Id) when it was a thread's and not the process's own; null otherwise. ProcessId is always the process's.</summary>
    public int? ThreadId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong ProcessStartTime { get; set; }
    public string BootId { get; set; } = "";
    /// <summary>The inode of the PID namespace the object was read in (/proc/self/ns/pid); its ProcessId is numbered there.</summary>
    public ulong PidNamespace { get; set; }

    /// <summary>The arguments, joined by spaces (/proc/PID/cmdline); tells processes of one name apart.</summary>
    public string CommandLine { get; set; } = "";

    /// <summary>The real user ID (/proc/PID/status Uid) and its name from /etc/passwd.</summary>
    public int UserId { get; set; }
    public string UserName { get; set; } = "";

    // The smaps size fields, copied from the parsed entry as one block (SmapsField is their list).
    internal SmapsSizes Sizes;

    public long Rss { get => Sizes[(int)SmapsField.Rss]; set => Sizes[(int)SmapsField.Rss] = value; }
    public long Pss { get => Sizes[(int)SmapsField.Pss]; set => Sizes[(int)SmapsField.Pss] = value; }
    public long PssDirty { get => Sizes[(int)SmapsField.PssDirty]; set => Sizes[(int)SmapsField.PssDirty] = value; }
    public long PssAnon { get => Sizes[(int)SmapsField.PssAnon]; set => Sizes[(int)SmapsField.PssAnon] = value; }
    public long PssFile { get => Sizes[(int)SmapsField.PssFile]; set => Sizes[(int)SmapsField.PssFile] = value; }
    public long PssShmem { get => Sizes[(int)SmapsField.PssShmem]; set => Sizes[(int)SmapsField.PssShmem] = value; }
    public long SharedClean { get => Sizes[(int)SmapsField.SharedClean]; set => Sizes[(int)SmapsField.SharedClean] = value; }
    public long SharedDirty { get => Sizes[(int)SmapsField.SharedDirty]; set => Sizes[(int)SmapsField.SharedDirty] = value; }
    public long PrivateClean { get => Sizes[(int)SmapsField.PrivateClean]; set => Sizes[(int)SmapsField.PrivateClean] = value; }
    public long PrivateDirty { get => Sizes[(int)SmapsField.PrivateDirty]; set => Sizes[(int)SmapsField.PrivateDirty] = value; }
    public long Referenced { get => Sizes[(int)SmapsField.Referenced]; set => Sizes[(int)SmapsField.Referenced] = value; }
    public long Anonymous { get => Sizes[(int)SmapsField.Anonymous]; set => Sizes[(int)SmapsField.Anonymous] = value; }
    public long Ksm { get => Sizes[(int)SmapsField.Ksm]; set => Sizes[(int)SmapsField.Ksm] = value; }
    public long LazyFree { get => Sizes[(int)SmapsField.LazyFree]; set => Sizes[(int)SmapsField.LazyFree] = value; }
    public long AnonHugePages { get => Sizes[(int)SmapsField.AnonHugePages]; set => Sizes[(int)SmapsField.AnonHugePages] = value; }
    public long ShmemPmdMapped { get => Sizes[(int)SmapsField.ShmemPmdMapped]; set => Sizes[(int)SmapsField.ShmemPmdMapped] = value; }
    public long FilePmdMapped { get => Sizes[(int)SmapsField.FilePmdMapped]; set => Sizes[(int)SmapsField.FilePmdMapped] = value; }
    public long SharedHugetlb { get => Sizes[(int)SmapsField.SharedHugetlb]; set => Sizes[(int)SmapsField.SharedHugetlb] = value; }
    public long PrivateHugetlb { get => Sizes[(int)SmapsField.PrivateHugetlb]; set => Sizes[(int)SmapsField.PrivateHugetlb] = value; }
    public long Swap { get => Sizes[(int)SmapsField.Swap]; set => Sizes[(int)SmapsField.Swap] = value; }
    public long SwapPss { get => Sizes[(int)SmapsField.SwapPss]; set => Sizes[(int)SmapsField.SwapPss] = value; }
    public long Locked { get => Sizes[(int)SmapsField.Locked]; set => Sizes[(int)SmapsField.Locked] = value; }

    /// <summary>The kernel's RSS split (/proc/PID/status): anonymous, file-backed, shared memory.</summary>
    public long RssAnon { get; set; }
    public long RssFile { get; set; }
    public long RssShmem { get; set; }

    public override string ToString() => $"{ProcessName} ({ProcessId})";
}
