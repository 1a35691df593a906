using System;

namespace MadvPS;

/// <summary>
/// One mapping of a process as it was at the end of the last window of Measure-MemoryAccess,
/// with the bytes it referenced in each window. It is a <see cref="MemoryMapping"/> (every field of
/// it, so it pipes into Invoke-MemoryAdvice by the same property names) plus flat access figures.
/// </summary>
public sealed class MemoryAccess : MemoryMapping
{
    public MemoryAccess() { }

    /// <summary>A copy of every field of <paramref name="mapping"/>.</summary>
    public MemoryAccess(MemoryMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ProcessId = mapping.ProcessId;
        ThreadId = mapping.ThreadId;
        ProcessName = mapping.ProcessName;
        ProcessStartTime = mapping.ProcessStartTime;
        BootId = mapping.BootId;
        ExecutableId = mapping.ExecutableId;
        PidNamespace = mapping.PidNamespace;
        Start = mapping.Start;
        End = mapping.End;
        Size = mapping.Size;
        Permissions = mapping.Permissions;
        Offset = mapping.Offset;
        Device = mapping.Device;
        Inode = mapping.Inode;
        Path = mapping.Path;
        Kind = mapping.Kind;
        IsDeleted = mapping.IsDeleted;
        Sizes = mapping.Sizes;
        ThpEligible = mapping.ThpEligible;
        ProtectionKey = mapping.ProtectionKey;
        VmFlags = mapping.VmFlags;
        UnknownVmFlags = mapping.UnknownVmFlags;
    }

    /// <summary>Which referenced bits were cleared: All (clear_refs 1), Anonymous (2) or File (3).</summary>
    public MappingSelection MappingType { get; set; }

    /// <summary>The length asked for each window; each lasted at least this long.</summary>
    public TimeSpan Window { get; set; }

    /// <summary>The windows this mapping was measured in: the last ones of the measurement (fewer than asked if it appeared during it).</summary>
    public int WindowCount { get; set; }

    /// <summary>The bytes of the mapping referenced in each window it was measured in, oldest first (smaps' Referenced after each window).</summary>
    public long[] ReferencedBytes { get; set; } = Array.Empty<long>();

    /// <summary>The most bytes referenced in any one window.</summary>
    public long WorkingSetBytes { get; set; }

    /// <summary>
    /// Rss at the end minus <see cref="WorkingSetBytes"/>: the resident bytes no window touched if
    /// the mapping touches the same pages in every window. smaps gives counts, not pages, so if
    /// different windows touch different pages fewer bytes were idle than this.
    /// </summary>
    public long IdleBytes { get; set; }

    /// <summary>How many windows, counted back from the last, referenced no byte of the mapping (exact).</summary>
    public int IdleWindows { get; set; }
}
