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

    public long Rss { get; set; }
    public long Pss { get; set; }
    public long PssDirty { get; set; }
    public long PssAnon { get; set; }
    public long PssFile { get; set; }
    public long PssShmem { get; set; }
    public long SharedClean { get; set; }
    public long SharedDirty { get; set; }
    public long PrivateClean { get; set; }
    public long PrivateDirty { get; set; }
    public long Referenced { get; set; }
    public long Anonymous { get; set; }
    public long Ksm { get; set; }
    public long LazyFree { get; set; }
    public long AnonHugePages { get; set; }
    public long ShmemPmdMapped { get; set; }
    public long FilePmdMapped { get; set; }
    public long SharedHugetlb { get; set; }
    public long PrivateHugetlb { get; set; }
    public long Swap { get; set; }
    public long SwapPss { get; set; }
    public long Locked { get; set; }

    public override string ToString() => $"{ProcessName} ({ProcessId})";
}
