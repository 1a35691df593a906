namespace MadvPS;

/// <summary>
/// One mapping of a process, as one entry of <c>/proc/PID/smaps</c> describes it. Sizes are in bytes.
/// Flat (numbers, strings, enums) so that it survives remoting and CSV; the members that
/// <c>Invoke-MemoryAdvice</c> binds by property name are ProcessId, Start, Size, ProcessStartTime,
/// BootId and VmFlags. Not sealed: <see cref="MemoryAccess"/> is a mapping with access figures.
/// </summary>
public class MemoryMapping
{
    public int ProcessId { get; set; }
    /// <summary>The thread ID that was given (to -Id) when it was a thread's and not the process's own; null otherwise. ProcessId is always the process's.</summary>
    public int? ThreadId { get; set; }
    public string ProcessName { get; set; } = "";
    /// <summary>Start time of the process in clock ticks after boot (/proc/PID/stat field 22).</summary>
    public ulong ProcessStartTime { get; set; }
    /// <summary>The boot id of the host the mapping was read on (/proc/sys/kernel/random/boot_id).</summary>
    public string BootId { get; set; } = "";

    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    /// <summary>rwxp / rwxs as the kernel prints them.</summary>
    public string Permissions { get; set; } = "";
    public ulong Offset { get; set; }
    /// <summary>major:minor in hex, as the kernel prints it.</summary>
    public string Device { get; set; } = "";
    public ulong Inode { get; set; }
    /// <summary>The name the kernel gives the mapping, with <c>\012</c> decoded and without a trailing " (deleted)".</summary>
    public string Path { get; set; } = "";
    public MappingKind Kind { get; set; }
    public bool IsDeleted { get; set; }

    public long KernelPageSize { get; set; }
    public long MMUPageSize { get; set; }
    public long Rss { get; set; }
    public long Pss { get; set; }
    public long PssDirty { get; set; }
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
    public bool ThpEligible { get; set; }
    /// <summary>The memory protection key, or null where the kernel does not print one.</summary>
    public int? ProtectionKey { get; set; }
    public VmFlags VmFlags { get; set; }
    /// <summary>VmFlags codes this module does not know, space separated, as the kernel printed them.</summary>
    public string UnknownVmFlags { get; set; } = "";

    public override string ToString() => $"{Start:x}-{End:x} {Permissions} {Path}";
}
