using System;
using System.Collections.Generic;
using System.Linq;

namespace MadvPS.Core;

/// <summary>What the module must know of one advice.</summary>
/// <param name="Since">The kernel that added the advice.</param>
/// <param name="RemoteSince">The kernel from which process_madvise accepts it for another process, or null if never.</param>
/// <param name="DestroysData">True for the kernel's is_discard() list (mm/madvise.c): contents or fork-time copies are lost.</param>
/// <param name="Capability">A capability the kernel demands beyond process_madvise's own (CAP_SYS_NICE for another process).</param>
/// <param name="NeedsLruPages">The kernel refuses (EINVAL, and stops the walk) locked, PFN-mapped and hugetlb VMAs (can_madv_lru_vma).</param>
internal sealed record AdviceFact(
    MemoryAdvice Advice,
    Version Since,
    Version? RemoteSince,
    bool DestroysData,
    string? Capability,
    bool NeedsLruPages,
    string Description);

/// <summary>The kernel's rules for each advice, in one place.</summary>
internal static class AdviceFacts
{
    /// <summary>Self-targeted process_madvise takes any advice since 6.13 (mm/madvise.c, process_madvise_remote_valid only for remote mms).</summary>
    public static readonly Version AnyAdviceForSelfSince = new(6, 13);

    /// <summary>process_madvise(2) and its pidfd: Linux 5.10.</summary>
    public static readonly Version ProcessMadviseSince = new(5, 10);

    private static readonly Dictionary<MemoryAdvice, AdviceFact> s_facts = new AdviceFact[]
    {
        new(MemoryAdvice.Normal, new(2, 6), null, false, null, false, "No special treatment: default read-ahead and reclaim."),
        new(MemoryAdvice.Random, new(2, 6), null, false, null, false, "Expect random access: read-ahead is turned off."),
        new(MemoryAdvice.Sequential, new(2, 6), null, false, null, false, "Expect sequential access: aggressive read-ahead, pages freed soon after use."),
        // process_madvise_remote_valid(): WillNeed joined Cold/PageOut in 5.15.
        new(MemoryAdvice.WillNeed, new(2, 6), new(5, 15), false, null, false, "Read the range in ahead of use (file pages and swapped-out anonymous pages)."),
        new(MemoryAdvice.DontNeed, new(2, 6), null, true, null, false, "Drop the pages now: private anonymous memory reads back as zeros."),
        new(MemoryAdvice.Free, new(4, 5), null, true, null, false, "The contents may be freed lazily; private anonymous memory only."),
        new(MemoryAdvice.Remove, new(2, 6, 16), null, true, null, false, "Punch a hole in the shared, writable backing file or shmem."),
        new(MemoryAdvice.DontFork, new(2, 6, 16), null, true, null, false, "Children do not get the range after fork."),
        new(MemoryAdvice.DoFork, new(2, 6, 16), null, false, null, false, "Undo DontFork."),
        new(MemoryAdvice.Mergeable, new(2, 6, 32), null, false, null, false, "Let KSM merge identical pages of the range."),
        new(MemoryAdvice.Unmergeable, new(2, 6, 32), null, false, null, false, "Undo Mergeable: unmerge KSM pages."),
        new(MemoryAdvice.HugePage, new(2, 6, 38), null, false, null, false, "Enable transparent huge pages for the range."),
        new(MemoryAdvice.NoHugePage, new(2, 6, 38), null, false, null, false, "Never use transparent huge pages for the range."),
        new(MemoryAdvice.DontDump, new(3, 4), null, false, null, false, "Leave the range out of core dumps."),
        new(MemoryAdvice.DoDump, new(3, 4), null, false, null, false, "Undo DontDump."),
        new(MemoryAdvice.WipeOnFork, new(4, 14), null, true, null, false, "Children see the range zero-filled after fork."),
        new(MemoryAdvice.KeepOnFork, new(4, 14), null, false, null, false, "Undo WipeOnFork."),
        // Cold and PageOut are what process_madvise was made for (5.10).
        new(MemoryAdvice.Cold, new(5, 4), new(5, 10), false, null, true, "Deactivate the pages: reclaim takes them first under pressure."),
        new(MemoryAdvice.PageOut, new(5, 4), new(5, 10), false, null, true, "Reclaim the pages now: file pages are dropped or written back, anonymous pages go to swap."),
        new(MemoryAdvice.PopulateRead, new(5, 14), null, false, null, false, "Fault the range in readable, without breaking copy-on-write."),
        new(MemoryAdvice.PopulateWrite, new(5, 14), null, false, null, false, "Fault the range in writable, breaking copy-on-write."),
        new(MemoryAdvice.DontNeedLocked, new(5, 18), null, true, null, false, "DontNeed that also applies to locked ranges."),
        // Collapse came with its own remote support in 6.1.
        new(MemoryAdvice.Collapse, new(6, 1), new(6, 1), false, null, false, "Collapse the range into transparent huge pages now, whatever the THP setting."),
        new(MemoryAdvice.HwPoison, new(2, 6, 32), null, true, "CAP_SYS_ADMIN", false, "Test only: poison the pages as if memory had failed (needs CONFIG_MEMORY_FAILURE)."),
        new(MemoryAdvice.SoftOffline, new(2, 6, 33), null, false, "CAP_SYS_ADMIN", false, "Test only: migrate the pages away and take the old frames offline (needs CONFIG_MEMORY_FAILURE)."),
        new(MemoryAdvice.GuardInstall, new(6, 13), null, true, null, false, "Install guard regions: access faults, and the contents are dropped."),
        new(MemoryAdvice.GuardRemove, new(6, 13), null, false, null, false, "Remove guard regions."),
    }.ToDictionary(fact => fact.Advice);

    public static IReadOnlyCollection<AdviceFact> All => s_facts.Values;

    public static AdviceFact Of(MemoryAdvice advice) =>
        s_facts.TryGetValue(advice, out AdviceFact? fact)
            ? fact
            : throw new ArgumentOutOfRangeException(nameof(advice), advice, "Not a Linux MADV_* value.");

    /// <summary>Whether process_madvise accepts the advice for a process other than the caller on this kernel.</summary>
    public static bool AllowedForOtherProcess(MemoryAdvice advice, Version kernel) =>
        Of(advice).RemoteSince is Version since && kernel >= since;

    /// <summary>The advices another process may receive on this kernel, for error messages.</summary>
    public static IEnumerable<MemoryAdvice> AllowedForOtherProcesses(Version kernel) =>
        s_facts.Values.Where(f => f.RemoteSince is Version since && kernel >= since).Select(f => f.Advice).OrderBy(a => (int)a);

    /// <summary>Whether process_madvise on the caller's own memory takes the advice (any since 6.13).</summary>
    public static bool AllowedForSelf(MemoryAdvice advice, Version kernel) =>
        kernel >= AnyAdviceForSelfSince || AllowedForOtherProcess(advice, kernel);

    /// <summary>Whether the running kernel knows the advice at all (madvise(NULL, 0, advice) answers 0), as Get-MemoryAdviceSupport shows it.</summary>
    public static bool KernelKnows(MemoryAdvice advice) => Interop.Libc.KernelKnowsAdvice((int)advice);
}
