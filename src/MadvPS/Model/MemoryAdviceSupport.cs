namespace MadvPS;

/// <summary>One advice and what it can do on this host.</summary>
public sealed class MemoryAdviceSupport
{
    public MemoryAdvice Advice { get; set; }
    /// <summary>The MADV_* number.</summary>
    public int Value { get; set; }
    /// <summary>madvise(NULL, 0, advice) answered 0 on this kernel.</summary>
    public bool KnownByKernel { get; set; }
    public bool AllowedForOtherProcess { get; set; }
    public bool AllowedForSelf { get; set; }
    public string AddedInKernel { get; set; } = "";
    public string OtherProcessSinceKernel { get; set; } = "";
    public bool DestroysData { get; set; }
    /// <summary>A capability the advice needs beyond process_madvise's CAP_SYS_NICE, if any.</summary>
    public string RequiredCapability { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>What on this host limits the advice (no swap, no capability…), or empty.</summary>
    public string Note { get; set; } = "";
}

/// <summary>The facts of this host that decide whether advice will work.</summary>
public sealed class MemoryAdviceEnvironment
{
    public string KernelRelease { get; set; } = "";
    public string KernelVersion { get; set; } = "";
    public bool ProcessMadviseAvailable { get; set; }
    public long SwapTotal { get; set; }
    public long SwapFree { get; set; }
    public string TransparentHugePages { get; set; } = "";
    public bool HasCapSysNice { get; set; }
    public bool HasCapSysAdmin { get; set; }
    public string BootId { get; set; } = "";
}
