namespace MadvPS.Core;

/// <summary>
/// Adjacent pages of one process in the same state with the same flags: [Start, Start + Length).
/// </summary>
internal readonly record struct PageRun(ulong Start, ulong Length, PageState State, bool Exclusive, bool FilePage, bool Huge, bool ZeroPage)
{
    public ulong End => Start + Length;

    /// <summary>True when <paramref name="next"/> starts where this ends and has the same state and flags.</summary>
    public bool Joins(in PageRun next) =>
        next.Start == End && next.State == State && next.Exclusive == Exclusive && next.FilePage == FilePage && next.Huge == Huge && next.ZeroPage == ZeroPage;
}

/// <summary>Byte totals of a range's pages, and the number of runs it is made of.</summary>
internal readonly record struct PageCounts(long ResidentBytes, long SwappedBytes, long AbsentBytes, long ExclusiveBytes, long FilePageBytes, long Runs)
{
    public long TotalBytes => ResidentBytes + SwappedBytes + AbsentBytes;
}

/// <summary>How the pages were read.</summary>
internal enum PageSource
{
    /// <summary>The PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7): runs from the kernel; pagemap words only for the pages it reports.</summary>
    PagemapScan,
    /// <summary>pread of /proc/PID/pagemap: one 64-bit word per page.</summary>
    PagemapRead,
}
