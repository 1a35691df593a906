using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>
/// The pages core for other features: runs and byte totals of a range of a process, read from
/// /proc/PID/pagemap (PAGEMAP_SCAN where the kernel has it). Keep these signatures stable: the
/// reclaim loop counts "advised pages resident again" with <see cref="Count(ProcDirectory, ulong, ulong)"/>.
/// </summary>
internal static class PageRegions
{
    /// <summary>
    /// Resident, swapped, absent, exclusive and file-page bytes of [start, start + length) in the
    /// process of <paramref name="directory"/> (bound to the process, never to a reused PID).
    /// Throws ProcessAccessException (PermissionDenied, Exited) and PageRangeException.
    /// </summary>
    public static PageCounts Count(ProcDirectory directory, ulong start, ulong length, PageSource? source = null)
    {
        using PagemapReader reader = PagemapReader.Open(directory, source);
        return reader.Count(start, length);
    }

    /// <summary>As <see cref="Count(ProcDirectory, ulong, ulong, PageSource?)"/> for whatever process has the PID now.</summary>
    public static PageCounts Count(int processId, ulong start, ulong length, PageSource? source = null)
    {
        using ProcDirectory directory = ProcDirectory.Open(processId);
        return Count(directory, start, length, source);
    }

    /// <summary>
    /// The runs of [start, start + length), streamed. For many ranges of one process, open a
    /// <see cref="PagemapReader"/> once and call its Runs or Count per range.
    /// </summary>
    public static IEnumerable<PageRun> Runs(ProcDirectory directory, ulong start, ulong length, PageSource? source = null)
    {
        using PagemapReader reader = PagemapReader.Open(directory, source);
        foreach (PageRun run in reader.Runs(start, length))
        {
            yield return run;
        }
    }
}
