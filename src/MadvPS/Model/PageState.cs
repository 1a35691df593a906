namespace MadvPS;

/// <summary>Where the pages of a run are, as the process's page tables say.</summary>
public enum PageState
{
    /// <summary>Not backed by memory or swap: never touched, dropped (PageOut of a clean file page, DontNeed), or a guard region.</summary>
    Absent,
    /// <summary>Mapped to a page in RAM (pagemap bit 63).</summary>
    Resident,
    /// <summary>The page table holds a swap entry (pagemap bit 62): the page is in swap, or in the swap cache.</summary>
    Swapped,
}
