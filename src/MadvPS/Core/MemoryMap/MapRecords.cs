using System;

namespace MadvPS.Core;

/// <summary>Which process (on which host) a record belongs to; StartTime and BootId are 0 and "" where the input has none.</summary>
internal readonly record struct MapProcessKey(string Host, int ProcessId, ulong StartTime, string BootId);

/// <summary>The residency a page-run record gives a range.</summary>
internal enum MapPageState
{
    Resident,
    Swapped,
    Absent,
}

/// <summary>
/// One mapping as the map draws it, from a MemoryMapping, MemoryAccess or MemoryPageSummary.
/// Resident, Swapped and Absent are filled from the richest source (page runs, then page
/// summaries, then smaps' Rss and Swap); Idle from an access measurement, -1 when none was made.
/// </summary>
internal sealed class MapRegion
{
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    public MappingKind Kind { get; set; }
    public string Path { get; set; } = "";
    public string Permissions { get; set; } = "";
    public string Flags { get; set; } = "";
    public long Rss { get; set; }
    public long Pss { get; set; }
    public long Swap { get; set; }
    public long Anonymous { get; set; }
    public long PrivateBytes { get; set; }
    public long SharedBytes { get; set; }
    public long Referenced { get; set; }

    /// <summary>Resident, swapped and absent bytes from page runs or page summaries; -1 where no page data came.</summary>
    public long PageResident { get; set; } = -1;
    public long PageSwapped { get; set; } = -1;
    public long PageAbsent { get; set; } = -1;
    public long PageExclusive { get; set; } = -1;

    /// <summary>Resident bytes no access window referenced (MemoryAccess.IdleBytes); -1 when not measured.</summary>
    public long Idle { get; set; } = -1;
    public int IdleWindows { get; set; }
    /// <summary>Bytes referenced in each access window, oldest first; empty when not measured.</summary>
    public long[] ReferencedByWindow { get; set; } = Array.Empty<long>();
    public double WindowSeconds { get; set; }

    /// <summary>True once page runs have set the page figures (runs outrank a summary).</summary>
    internal bool FromRuns { get; set; }

    public long Resident => PageResident >= 0 ? PageResident : Rss;
    public long Swapped => PageSwapped >= 0 ? PageSwapped : Swap;
}

/// <summary>One run of pages in one state (Get-MemoryPage's MemoryPageRun).</summary>
internal readonly record struct MapPageRun(ulong Start, ulong End, MapPageState State, MappingKind Kind, string Path, bool Huge, bool Exclusive);

/// <summary>A process's totals (ProcessMemory from smaps_rollup).</summary>
internal sealed record MapRollup(long Rss, long Pss, long Swap, long Anonymous, long PssFile, long PssShmem);

/// <summary>A whole-process access estimate (ProcessAccess).</summary>
internal sealed record MapProcessAccess(string MappingType, double WindowSeconds, long Rss, long[] ReferencedBytes, long WorkingSetBytes, long IdleBytes);

/// <summary>What Set-ProcessMadvise did to a process (ProcessAdviceResult), or a sum of Invoke-MemoryAdvice's AdviceResults.</summary>
internal sealed class MapAdvice
{
    public string Advice { get; set; } = "";
    public string Source { get; set; } = "";
    public int RangesRequested { get; set; }
    public long BytesRequested { get; set; }
    public long BytesAdvised { get; set; }
    public int RangesSkipped { get; set; }
    public long BytesSkipped { get; set; }
    public int RangesFailed { get; set; }
    public long BytesFailed { get; set; }
    /// <summary>Rss and swap before and after; -1 where the input does not carry them (AdviceResult).</summary>
    public long RssBefore { get; set; } = -1;
    public long RssAfter { get; set; } = -1;
    public long SwapBefore { get; set; } = -1;
    public long SwapAfter { get; set; } = -1;
    /// <summary>Pages touched again after the advice (ReclaimResult); -1 where unknown.</summary>
    public long BytesRefaulted { get; set; } = -1;
}
