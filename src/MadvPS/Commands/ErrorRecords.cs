using System;
using System.Linq;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Turns the core's failures into ErrorRecords: stable ids without values in them, a specific
/// category, the input as target, and text that says what to do.
/// </summary>
internal static class ErrorRecords
{
    public static ErrorRecord ForProcess(ProcessAccessException e, object? target)
    {
        (string id, ErrorCategory category) = e.Failure switch
        {
            ProcessAccessFailure.NotFound => ("ProcessNotFound", ErrorCategory.ObjectNotFound),
            ProcessAccessFailure.PermissionDenied => ("ProcessAccessDenied", ErrorCategory.PermissionDenied),
            ProcessAccessFailure.Exited => ("ProcessExited", ErrorCategory.ObjectNotFound),
            ProcessAccessFailure.IdentityChanged => ("ProcessIdentityMismatch", ErrorCategory.InvalidData),
            ProcessAccessFailure.KernelThread => ("ProcessIsKernelThread", ErrorCategory.InvalidOperation),
            ProcessAccessFailure.Zombie => ("ProcessIsZombie", ErrorCategory.ObjectNotFound),
            ProcessAccessFailure.OtherPidNamespace => ("ProcessInOtherPidNamespace", ErrorCategory.InvalidData),
            ProcessAccessFailure.SystemError => ("ProcessOpenFailed", CategoryOf(e.Errno)),
            _ => throw new ArgumentOutOfRangeException(nameof(e)),
        };
        return Worded(e, id, category, target ?? e.ProcessId);
    }

    public static ErrorRecord ForFormat(SmapsFormatException e, int processId) =>
        Worded(e, "SmapsFormatInvalid", ErrorCategory.InvalidData, processId);

    public static ErrorRecord ForClearRefs(ClearRefsDeniedException e, object? target) =>
        Worded(e, "ClearRefsAccessDenied", ErrorCategory.PermissionDenied, target);

    public static ErrorRecord ForPageRange(PageRangeException e, object? target) =>
        Worded(e, "PageRangeInvalid", ErrorCategory.InvalidArgument, target);

    /// <summary>
    /// An ErrorRecord whose exception carries the user's text (<see cref="FailureText"/>) and, as
    /// its inner exception, the core's structured failure.
    /// </summary>
    public static ErrorRecord Worded(Exception failure, string id, ErrorCategory category, object? target) =>
        new(new InvalidOperationException(FailureText.Of(failure), failure), id, category, target);

    public static ErrorCategory CategoryOf(int errno) => KernelError.NameOf(errno) switch
    {
        "EINVAL" or "EFAULT" => ErrorCategory.InvalidArgument,
        "ESRCH" or "ENOENT" or "ENOMEM" => ErrorCategory.ObjectNotFound,
        "EPERM" or "EACCES" => ErrorCategory.PermissionDenied,
        "EINTR" => ErrorCategory.OperationStopped,
        "EAGAIN" or "EBUSY" => ErrorCategory.ResourceBusy,
        "ENOSYS" or "EOPNOTSUPP" => ErrorCategory.NotImplemented,
        _ => ErrorCategory.InvalidOperation,
    };

    /// <summary>What an errno means for one range given this advice, and what to do.</summary>
    public static string ExplainRange(MemoryAdvice advice, int errno) => KernelError.NameOf(errno) switch
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
    public static string ExplainProcess(MemoryAdvice advice, int processId, int errno) => KernelError.NameOf(errno) switch
    {
        "EPERM" => $"Advising process {processId} needs CAP_SYS_NICE: run as root, or give the capability to pwsh (for example AmbientCapabilities=CAP_SYS_NICE in a systemd unit).",
        "EACCES" => $"The kernel's ptrace access check (PTRACE_MODE_READ) on process {processId} failed: {FailureText.PtraceDenial(KernelInfo.Ptrace, processId)}.",
        "EINVAL" => $"The kernel refused {advice} for process {processId}. On Linux {KernelInfo.Version} another process may receive only {string.Join(", ", AdviceFacts.AllowedForOtherProcesses(KernelInfo.Version))}; see Get-MemoryAdviceSupport.",
        "ESRCH" => $"Process {processId} has exited.",
        "ENOSYS" => "This kernel has no process_madvise: it needs Linux 5.10 or later built with CONFIG_ADVISE_SYSCALLS.",
        _ => $"process_madvise failed for process {processId}: {KernelError.NameOf(errno)} ({KernelError.Describe(errno)}).",
    };

    public static ErrorRecord ForWholeCall(ProcessAdviceException e, MemoryAdvice advice, int processId, object? target)
    {
        string message = ExplainProcess(advice, processId, e.Errno);
        // ESRCH: the process exited during the advice. The same id as an exit seen anywhere else,
        // so that a run over short-lived processes can pass over them by one id.
        string id = KernelError.NameOf(e.Errno) == "ESRCH" ? "ProcessExited" : "ProcessAdviceRefused";
        return new ErrorRecord(new InvalidOperationException(message, e), id, CategoryOf(e.Errno), target ?? processId);
    }

    public static ErrorRecord AdviceNotAllowedForOtherProcess(MemoryAdvice advice, int processId, object? target)
    {
        AdviceFact fact = AdviceFacts.Of(advice);
        string allowed = string.Join(", ", AdviceFacts.AllowedForOtherProcesses(KernelInfo.Version));
        string why = fact.DestroysData ? $"{advice} destroys data, and the kernel never lets one process do that to another." : $"The kernel does not accept {advice} for another process on Linux {KernelInfo.Version}.";
        return new ErrorRecord(
            new InvalidOperationException($"{advice} cannot be given to process {processId}: {why} Another process may receive only {allowed}. Nothing was sent."),
            "AdviceNotAllowedForOtherProcess", ErrorCategory.InvalidOperation, target ?? processId);
    }
}
