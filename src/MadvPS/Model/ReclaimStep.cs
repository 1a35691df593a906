using System;
using System.Globalization;

namespace MadvPS;

/// <summary>One step of Invoke-MemoryReclaim for one process: what it found and what it did.</summary>
public sealed class ReclaimStep
{
    public int ProcessId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong ProcessStartTime { get; set; }
    public string BootId { get; set; } = "";
    public int Step { get; set; }

    /// <summary>Time since the run started, at the end of this step.</summary>
    public TimeSpan Elapsed { get; set; }
    public ReclaimAction Action { get; set; }
    public string Detail { get; set; } = "";

    /// <summary>Resident and swapped bytes of the process's measured mappings at the end of the window.</summary>
    public long Rss { get; set; }
    public long Swap { get; set; }

    /// <summary>Bytes referenced in the window (smaps Referenced after clear_refs).</summary>
    public long Referenced { get; set; }

    /// <summary>Resident bytes of chunks this step found cold and did not advise (budget).</summary>
    public long ColdBytesLeft { get; set; }

    /// <summary>Bytes advised by this step's calls.</summary>
    public long BytesAdvised { get; set; }

    /// <summary>Advised bytes that this step found resident again.</summary>
    public long BytesRefaulted { get; set; }

    /// <summary>Bytes kept out so far, over the run.</summary>
    public long BytesOut { get; set; }

    /// <summary>Chunks the loop backs off from at this step (they came back after being advised).</summary>
    public int HotChunks { get; set; }
    public int Calls { get; set; }

    /// <summary>The process's page faults over the step.</summary>
    public long MinorFaults { get; set; }
    public long MajorFaults { get; set; }

    /// <summary>PSI memory "some" over the step, in percent of its wall time.</summary>
    public double Pressure { get; set; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ProcessName} ({ProcessId}) step {Step}: {Action}, {Display.Bytes(BytesAdvised)} advised, {Display.Bytes(BytesRefaulted)} back, {Display.Bytes(BytesOut)} out, pressure {Pressure:0.##}%");
}
