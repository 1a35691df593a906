namespace MadvPS;

public enum AdviceStatus
{
    /// <summary>The kernel took the advice for the whole range.</summary>
    Advised,
    /// <summary>Not sent: the advice cannot apply to this range (see Reason).</summary>
    Skipped,
    /// <summary>The kernel refused the range, or took only part of it (see Error and BytesAdvised).</summary>
    Failed,
    /// <summary>Not sent because the pipeline was stopped (Ctrl+C) before its call.</summary>
    NotSent,
    /// <summary>The range, or part of it, is no longer mapped as it was read (unmapped, or another mapping there): that part was not sent (see Reason; BytesAdvised is the part that was).</summary>
    Changed,
}

/// <summary>What happened to one range given to Invoke-MemoryAdvice.</summary>
public sealed class AdviceResult
{
    public int ProcessId { get; set; }
    /// <summary>The thread ID that was given (to -Id) when it was a thread's and not the process's own; null otherwise. ProcessId is always the process's.</summary>
    public int? ThreadId { get; set; }
    public string ProcessName { get; set; } = "";
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    public string Path { get; set; } = "";
    public MemoryAdvice Advice { get; set; }
    /// <summary>The bytes the kernel reported as advised (process_madvise's return, summed).</summary>
    public long BytesAdvised { get; set; }
    public AdviceStatus Status { get; set; }
    /// <summary>The errno name (ENOMEM, EINVAL…) when the range failed.</summary>
    public string Error { get; set; } = "";
    public string Reason { get; set; } = "";
    /// <summary>Resident bytes of the range before the advice (the piped object's Rss, else smaps read just before).</summary>
    public long ResidentBytes { get; set; }
    /// <summary>Of ResidentBytes, the part this process alone maps (Private_Clean + Private_Dirty).</summary>
    public long PrivateResidentBytes { get; set; }
    /// <summary>Bytes of the range already in swap before the advice.</summary>
    public long SwappedBytes { get; set; }
    /// <summary>What the advice was foretold to take out of RAM (PageOut: private pages not locked, anonymous and shmem ones only into free swap).</summary>
    public long ForetoldBytes { get; set; }
    /// <summary>What left RAM, measured: ResidentBytes minus the range's Rss read after the advice (with -PassThru).</summary>
    public long ReclaimedBytes { get; set; }

    public override string ToString() => $"{Start:x}-{End:x} {Advice} {Status}";
}
