namespace MadvPS;

/// <summary>
/// Adjacent pages of one mapping in the same state, from /proc/PID/pagemap. Flat, and named like
/// the parameters of Invoke-MemoryAdvice (ProcessId, Start, Size, ProcessStartTime, BootId, Kind,
/// Path), so that runs pipe into it and its identity checks apply.
/// </summary>
public sealed class MemoryPageRun
{
    public int ProcessId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong ProcessStartTime { get; set; }
    public string BootId { get; set; } = "";
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    public PageState State { get; set; }
    /// <summary>The path or name of the mapping the run is in.</summary>
    public string Path { get; set; } = "";
    public MappingKind Kind { get; set; }
    /// <summary>Mapped by this process only (pagemap bit 56); resident pages only.</summary>
    public bool Exclusive { get; set; }
    /// <summary>A page of a file or of shared anonymous memory (pagemap bit 61).</summary>
    public bool FilePage { get; set; }
    /// <summary>Part of a huge page (PAGEMAP_SCAN only; false from the pagemap read).</summary>
    public bool Huge { get; set; }
    /// <summary>Mapped to the shared zero page: read but never written (PAGEMAP_SCAN only).</summary>
    public bool ZeroPage { get; set; }

    public override string ToString() => $"{Start:x}-{End:x} {State} {Path}";
}
