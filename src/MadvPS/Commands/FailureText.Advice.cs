using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>The words for what the kernel answered to process_madvise: for one range, and for a call as a whole.</summary>
internal static partial class FailureText
{
    /// <summary>What an errno means for one range given this advice, and what to do.</summary>
    public static string Range(MemoryAdvice advice, int errno) => KernelError.NameOf(errno) switch
    {
        "ENOMEM" when advice == MemoryAdvice.Collapse =>
            "Part of the range is not mapped, or no huge page could be allocated. Read the mappings again; for a huge page, free memory or compact it (/proc/sys/vm/compact_memory).",
        "ENOMEM" => "Part of the range is not mapped: the process unmapped or remapped it after it was read. Read the mappings again.",
        "EINVAL" => ExplainInvalid(advice),
        "EACCES" when advice == MemoryAdvice.Remove => "Remove works only on a shared, writable mapping.",
        "EPERM" => "The range is sealed (mseal) or the advice needs a capability the caller lacks (HwPoison and SoftOffline need CAP_SYS_ADMIN).",
        "EAGAIN" => "The kernel could not take the advice now (a page was busy). Try again.",
        "EBUSY" => "The memory cgroup could not be charged for the huge page, or the range has too many empty page-table entries to collapse.",
        _ => KernelError.Describe(errno) + ".",
    };

    // EINVAL for one range: the causes that apply to this advice only (mm/madvise.c, v6.19).
    private static string ExplainInvalid(MemoryAdvice advice) => advice switch
    {
        _ when !AdviceFacts.KernelKnows(advice) =>
            $"This kernel does not know {advice} ({(int)advice}); Get-MemoryAdviceSupport shows KnownByKernel False for it." +
            (advice is MemoryAdvice.HwPoison or MemoryAdvice.SoftOffline ? " It needs a kernel built with CONFIG_MEMORY_FAILURE." : ""),
        MemoryAdvice.Cold or MemoryAdvice.PageOut =>
            $"{advice} does not apply to locked, PFN-mapped or hugetlb memory, and the kernel stopped at such a mapping inside the range. Read the mappings again (Get-MemoryMapping shows their VmFlags).",
        MemoryAdvice.DontNeed or MemoryAdvice.DontNeedLocked or MemoryAdvice.Free =>
            $"{advice} does not apply to PFN-mapped or hugetlb memory{(advice == MemoryAdvice.DontNeed ? " or to locked memory (DontNeedLocked takes it)" : "")}{(advice == MemoryAdvice.Free ? ", nor to file or shared mappings" : "")}.",
        MemoryAdvice.WipeOnFork or MemoryAdvice.KeepOnFork => $"{advice} applies to private anonymous memory only, not to file or shared mappings.",
        MemoryAdvice.Collapse => "Collapse needs a mapping that holds an aligned 2 MiB block and allows huge pages (no NoHugePage, no THP-disable prctl).",
        MemoryAdvice.Mergeable or MemoryAdvice.Unmergeable => $"{advice} needs a kernel with KSM (CONFIG_KSM) and a mapping KSM can take (not shared, not PFN-mapped, not hugetlb).",
        MemoryAdvice.HugePage or MemoryAdvice.NoHugePage => $"{advice} needs a kernel with transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE).",
        MemoryAdvice.HwPoison or MemoryAdvice.SoftOffline => $"{advice} needs pages the kernel can poison or offline (not PFN-mapped, not special mappings).",
        _ => $"The kernel refused {advice} for this range: its mapping does not take this advice.",
    };

    /// <summary>What an errno means for a call the kernel refused as a whole.</summary>
    public static string WholeCall(MemoryAdvice advice, int processId, int errno) => KernelError.NameOf(errno) switch
    {
        "EPERM" => $"Advising process {processId} needs CAP_SYS_NICE: run as root, or give the capability to pwsh (for example AmbientCapabilities=CAP_SYS_NICE in a systemd unit).",
        "EACCES" => $"The kernel's ptrace access check (PTRACE_MODE_READ) on process {processId} failed: {PtraceDenial(KernelInfo.Ptrace, processId)}.",
        "EINVAL" => $"The kernel refused {advice} for process {processId}. On Linux {KernelInfo.Version} another process may receive only {string.Join(", ", AdviceFacts.AllowedForOtherProcesses(KernelInfo.Version))}; see Get-MemoryAdviceSupport.",
        "ESRCH" => $"Process {processId} has exited.",
        "ENOSYS" => "This kernel has no process_madvise: it needs Linux 5.10 or later built with CONFIG_ADVISE_SYSCALLS.",
        _ => $"process_madvise failed for process {processId}: {KernelError.NameOf(errno)} ({KernelError.Describe(errno)}).",
    };

    /// <summary>An advice the kernel never accepts for another process (or not on this kernel).</summary>
    public static string NotAllowedForOtherProcess(MemoryAdvice advice, int processId)
    {
        AdviceFact fact = AdviceFacts.Of(advice);
        string allowed = string.Join(", ", AdviceFacts.AllowedForOtherProcesses(KernelInfo.Version));
        string why = fact.DestroysData ? $"{advice} destroys data, and the kernel never lets one process do that to another." : $"The kernel does not accept {advice} for another process on Linux {KernelInfo.Version}.";
        return $"{advice} cannot be given to process {processId}: {why} Another process may receive only {allowed}. Nothing was sent.";
    }

    /// <summary>What an advice is foretold to take, in one line for ShouldProcess and -Verbose.</summary>
    public static string Forecast(AdviceForecast forecast, MemoryAdvice advice)
    {
        if (forecast.Unknown)
        {
            return "effect not foretold: its smaps cannot be read";
        }

        string text = $"{Display.Bytes(forecast.Resident)} resident, {Display.Bytes(forecast.PrivateResident)} of it private, {Display.Bytes(forecast.Swapped)} already in swap";
        if (advice == MemoryAdvice.PageOut || forecast.Foretold > 0)
        {
            text += $"; foretold to leave RAM: {Display.Bytes(forecast.Foretold)}";
        }

        var over = new System.Collections.Generic.List<string>();
        if (forecast.Shared > 0) over.Add($"{Display.Bytes(forecast.Shared)} shared with other processes");
        if (forecast.Locked > 0) over.Add($"{Display.Bytes(forecast.Locked)} locked");
        if (forecast.NoSwap > 0) over.Add($"{Display.Bytes(forecast.NoSwap)} anonymous or shmem with no free swap");
        return over.Count == 0 ? text : $"{text}; passed over: {string.Join(", ", over)}";
    }
}
