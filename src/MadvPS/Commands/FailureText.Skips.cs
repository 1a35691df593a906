using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>The words for why a range is not sent (the core's <see cref="RangeSkip"/>) and why smaps was read.</summary>
internal static partial class FailureText
{
    /// <summary>Why a range is not sent, as AdviceResult.Reason and the verbose stream show it.</summary>
    public static string Skip(RangeSkip skip) => skip.Kind switch
    {
        SkipKind.Empty => "The range is empty.",
        SkipKind.Vsyscall => "[vsyscall] lies in the kernel's half of the address space; the kernel would fail the whole call with EFAULT.",
        SkipKind.PastAddressSpace =>
            $"Start 0x{skip.Start:x} plus Size {skip.Length} passes 2^64: no address space holds this range. Check -Address and -Length.",
        SkipKind.KernelHalf =>
            $"The range 0x{skip.Start:x}-0x{skip.Start + (ulong)skip.Length:x} reaches into the kernel's half of the address space (user space ends below 0x{skip.UserSpaceEnd:x} even with 5-level page tables); the kernel would fail the whole call with EFAULT.",
        SkipKind.Locked => $"{skip.Advice} does not apply to locked (mlocked) memory: VmFlags 'lo'.",
        SkipKind.PfnMap => $"{skip.Advice} does not apply to PFN-mapped memory: VmFlags 'pf'.",
        SkipKind.HugeTlb => $"{skip.Advice} does not apply to hugetlbfs memory: VmFlags 'ht'.",
        SkipKind.DeviceMemory => $"{skip.Advice} does not apply to device (I/O) memory: VmFlags 'io'.",
        SkipKind.Sealed => $"{skip.Advice} is refused on sealed (mseal) read-only anonymous memory: VmFlags 'sl'.",
        SkipKind.NoHugeBlock => NoHugeBlock(Display.Bytes(skip.HugePageSize)),
        _ => skip.Kind.ToString(),
    };

    private static string NoHugeBlock(string size) =>
        $"Collapse needs a {size}-aligned {size} block (this kernel's PMD huge page) inside the range; this range holds none.";

    /// <summary>Why smaps was read rather than maps, for Set-ProcessMadvise's verbose line; empty for none.</summary>
    public static string SmapsCause(SmapsCause? cause) => cause switch
    {
        null => "",
        { Kind: SmapsCauseKind.LockedMemory } => $"the process has locked memory (VmLck {cause.LockedBytes / 1024} kB)",
        { Kind: SmapsCauseKind.LockedUnknown } => "its VmLck could not be read",
        { Kind: SmapsCauseKind.NotPageCache } => $"{cause.Start:x}-{cause.End:x} {cause.Path} is not anonymous memory or a regular file on a page-cache filesystem",
        _ => cause.Kind.ToString(),
    };
}
