namespace MadvPS;

/// <summary>The pages of one mapping (or the part of it asked for) added up: Get-MemoryPage -Summary.</summary>
public sealed class MemoryPageSummary
{
    public int ProcessId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong ProcessStartTime { get; set; }
    public string BootId { get; set; } = "";
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    public string Path { get; set; } = "";
    public MappingKind Kind { get; set; }
    public long ResidentBytes { get; set; }
    public long SwappedBytes { get; set; }
    public long AbsentBytes { get; set; }
    /// <summary>Resident bytes mapped by this process only.</summary>
    public long ExclusiveBytes { get; set; }
    /// <summary>How many runs of pages alike in state, Exclusive and FilePage the range is made of (Huge and ZeroPage do not split them here).</summary>
    public long Runs { get; set; }

    public override string ToString() => $"{Start:x}-{End:x} {Path}";
}
