namespace MadvPS.Core;

/// <summary>
/// The bits of a /proc/PID/pagemap word (Documentation/admin-guide/mm/pagemap.rst). The PFN
/// (bits 0-54) reads as 0 without CAP_SYS_ADMIN (since Linux 4.2) and is not used.
/// </summary>
internal static class PagemapWord
{
    public const ulong Present = 1UL << 63;
    public const ulong Swapped = 1UL << 62;
    /// <summary>A file page or shared anonymous (shmem) page.</summary>
    public const ulong FilePage = 1UL << 61;
    /// <summary>A guard region (MADV_GUARD_INSTALL, Linux 6.15): a page-table marker, which also sets the swap bit.</summary>
    public const ulong Guard = 1UL << 58;
    public const ulong UffdWriteProtected = 1UL << 57;
    /// <summary>The page is mapped by this process only (4.2; set only for present pages).</summary>
    public const ulong Exclusive = 1UL << 56;
    public const ulong SoftDirty = 1UL << 55;

    /// <summary>The bits that decide a run: pages whose words agree here join into one run.</summary>
    public const ulong RunBits = Present | Swapped | FilePage | Guard | Exclusive;

    public static PageState StateOf(ulong word) =>
        (word & Present) != 0 ? PageState.Resident
        : (word & (Swapped | Guard)) == Swapped ? PageState.Swapped
        : PageState.Absent;

    /// <summary>The run a page of this word belongs to (without Huge and ZeroPage, which pagemap words do not show).</summary>
    public static PageRun RunOf(ulong word, ulong start, ulong length)
    {
        PageState state = StateOf(word);
        return state switch
        {
            PageState.Resident => new PageRun(start, length, state, (word & Exclusive) != 0, (word & FilePage) != 0, false, false),
            PageState.Swapped => new PageRun(start, length, state, false, (word & FilePage) != 0, false, false),
            _ => new PageRun(start, length, state, false, false, false, false),
        };
    }
}
