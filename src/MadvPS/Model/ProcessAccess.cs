using System;
using System.Globalization;

namespace MadvPS;

/// <summary>
/// The working-set estimate of one process from Measure-MemoryAccess -Rollup: the bytes it
/// referenced in each window, in total over the mappings whose bits were cleared.
/// </summary>
public sealed class ProcessAccess
{
    public int ProcessId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong ProcessStartTime { get; set; }
    public string BootId { get; set; } = "";

    /// <summary>Which referenced bits were cleared: All (clear_refs 1), Anonymous (2) or File (3).</summary>
    public MappingSelection MappingType { get; set; }
    public TimeSpan Window { get; set; }
    public int WindowCount { get; set; }

    /// <summary>The resident bytes of the measured mappings at the end of the last window.</summary>
    public long Rss { get; set; }

    /// <summary>The bytes referenced in each window, oldest first.</summary>
    public long[] ReferencedBytes { get; set; } = Array.Empty<long>();

    /// <summary>The most bytes referenced in any one window: the working-set estimate.</summary>
    public long WorkingSetBytes { get; set; }

    /// <summary>Rss minus WorkingSetBytes (see MemoryAccess.IdleBytes for what it can and cannot tell).</summary>
    public long IdleBytes { get; set; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ProcessName} ({ProcessId}): {WindowCount} window(s) of {Window.TotalSeconds:0.###} s, {Display.Bytes(WorkingSetBytes)} referenced at most, {Display.Bytes(IdleBytes)} idle of {Display.Bytes(Rss)} resident");
}
