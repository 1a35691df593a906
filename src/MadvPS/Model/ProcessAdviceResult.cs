using System;

namespace MadvPS;

/// <summary>What Set-ProcessMadvise did to one process.</summary>
public sealed class ProcessAdviceResult
{
    public int ProcessId { get; set; }
    /// <summary>The thread ID that was given (to -Id) when it was a thread's and not the process's own; null otherwise. ProcessId is always the process's.</summary>
    public int? ThreadId { get; set; }
    public string ProcessName { get; set; } = "";
    public MemoryAdvice Advice { get; set; }
    public string MappingType { get; set; } = "";
    public int RangesRequested { get; set; }
    public long BytesRequested { get; set; }
    public long BytesAdvised { get; set; }
    public int RangesSkipped { get; set; }
    public int RangesFailed { get; set; }
    /// <summary>How many process_madvise calls were made.</summary>
    public int Calls { get; set; }
    public long RssBefore { get; set; }
    public long RssAfter { get; set; }
    public long SwapBefore { get; set; }
    public long SwapAfter { get; set; }
    /// <summary>RssBefore minus RssAfter.</summary>
    public long RssReclaimed { get; set; }
    public bool Frozen { get; set; }
    /// <summary>Resident bytes of the selected mappings before the advice (smaps).</summary>
    public long ResidentBytes { get; set; }
    /// <summary>Of ResidentBytes, the part this process alone maps.</summary>
    public long PrivateResidentBytes { get; set; }
    /// <summary>Bytes of the selected mappings already in swap before the advice.</summary>
    public long SwappedBytes { get; set; }
    /// <summary>Resident bytes shared with other processes: PageOut passes over them.</summary>
    public long SharedBytes { get; set; }
    /// <summary>Resident bytes of locked mappings: passed over.</summary>
    public long LockedBytes { get; set; }
    /// <summary>Private anonymous or shmem bytes with no free swap to go to: passed over by PageOut.</summary>
    public long NoSwapBytes { get; set; }
    /// <summary>What the advice was foretold to take out of RAM; RssReclaimed is what it took.</summary>
    public long ForetoldBytes { get; set; }
    public TimeSpan Duration { get; set; }

    public override string ToString() => $"{ProcessName} ({ProcessId}) {Advice}";
}
