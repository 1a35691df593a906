using System;
using System.Globalization;

namespace MadvPS;

/// <summary>What Invoke-MemoryReclaim did to one process over the whole run.</summary>
public sealed class ReclaimResult
{
    public int ProcessId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong ProcessStartTime { get; set; }
    public string BootId { get; set; } = "";
    public MemoryAdvice Advice { get; set; }

    /// <summary>Resident bytes (smaps_rollup Rss) before the first step and after the last.</summary>
    public long RssBefore { get; set; }
    public long RssAfter { get; set; }
    public long SwapBefore { get; set; }
    public long SwapAfter { get; set; }

    /// <summary>The bytes the kernel accepted in process_madvise calls (whole chunks, resident or not).</summary>
    public long BytesAdvised { get; set; }

    /// <summary>Advised bytes found resident again by pagemap at a later step.</summary>
    public long BytesRefaulted { get; set; }

    /// <summary>Of the bytes resident when their chunk was first advised, those not resident at the end.</summary>
    public long BytesKeptOut { get; set; }

    /// <summary>The process's own page faults during the run (/proc/PID/stat minflt and majflt).</summary>
    public long MinorFaults { get; set; }
    public long MajorFaults { get; set; }

    /// <summary>The highest share of a step's wall time, in percent, that some task waited on memory (PSI some).</summary>
    public double PeakPressure { get; set; }

    public int Steps { get; set; }
    public ReclaimStopReason StopReason { get; set; }

    /// <summary>Why the run stopped, in words.</summary>
    public string StopDetail { get; set; } = "";
    public TimeSpan Duration { get; set; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ProcessName} ({ProcessId}): {Display.Bytes(BytesKeptOut)} kept out after {Steps} step(s), {StopReason}");
}
