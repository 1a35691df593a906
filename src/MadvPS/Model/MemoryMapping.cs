using MadvPS.Core;

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
    /// <summary>The program the process ran when the mapping was read (its executable, code and stack addresses); an exec changes it. Empty when it could not be read.</summary>
    public string ExecutableId { get; set; } = "";
    /// <summary>The inode of the PID namespace the object was read in (/proc/self/ns/pid); its ProcessId is numbered there.</summary>
    public ulong PidNamespace { get; set; }

    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    /// <summary>rwxp / rwxs as the kernel prints them.</summary>
    public string Permissions { get; set; } = "";
    public ulong Offset { get; set; }
    /// <summary>major:minor in hex, as the kernel prints it.</summary>
    public string Device { get; set; } = "";
    public ulong Inode { get; set; }
    /// <summary>
    /// The name the kernel gives the mapping, byte for byte: <c>\012</c> decoded, and where the text is
    /// ambiguous (a real backslash, a name really ending in " (deleted)") as the kernel answers
    /// (PROCMAP_QUERY; the file's device and inode). Without the " (deleted)" the kernel appends to an unlinked file.
    /// </summary>
    public string Path { get; set; } = "";
    public MappingKind Kind { get; set; }
    /// <summary>The mapped file was unlinked: the kernel appended " (deleted)" and no file of that whole name is the one mapped.</summary>
    public bool IsDeleted { get; set; }

    // The smaps size fields, copied from the parsed entry as one block (SmapsField is their list).
    internal SmapsSizes Sizes;

    public long KernelPageSize { get => Sizes[(int)SmapsField.KernelPageSize]; set => Sizes[(int)SmapsField.KernelPageSize] = value; }
    public long MMUPageSize { get => Sizes[(int)SmapsField.MMUPageSize]; set => Sizes[(int)SmapsField.MMUPageSize] = value; }
    public long Rss { get => Sizes[(int)SmapsField.Rss]; set => Sizes[(int)SmapsField.Rss] = value; }
    public long Pss { get => Sizes[(int)SmapsField.Pss]; set => Sizes[(int)SmapsField.Pss] = value; }
    public long PssDirty { get => Sizes[(int)SmapsField.PssDirty]; set => Sizes[(int)SmapsField.PssDirty] = value; }
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
    public bool ThpEligible { get; set; }
    /// <summary>The memory protection key, or null where the kernel does not print one.</summary>
    public int? ProtectionKey { get; set; }
    public VmFlags VmFlags { get; set; }
    /// <summary>VmFlags codes this module does not know, space separated, as the kernel printed them.</summary>
    public string UnknownVmFlags { get; set; } = "";

    public override string ToString() => $"{Start:x}-{End:x} {Permissions} {Path}";
}
