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

    public override string ToString() => $"{Start:x}-{End:x} {Advice} {Status}";
}
