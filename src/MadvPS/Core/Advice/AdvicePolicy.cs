using System;

namespace MadvPS.Core;

/// <summary>Why a range is not sent (<see cref="RangeSkip"/>); Commands word each.</summary>
internal enum SkipKind
{
    /// <summary>The range is empty.</summary>
    Empty,

    /// <summary>[vsyscall], in the kernel's half of the address space.</summary>
    Vsyscall,

    /// <summary>Start plus length passes 2^64.</summary>
    PastAddressSpace,

    /// <summary>The range reaches into the kernel's half (at or past <see cref="RangeSkip.UserSpaceEnd"/>).</summary>
    KernelHalf,

    /// <summary>LRU advice on locked memory (VmFlags lo).</summary>
    Locked,

    /// <summary>LRU advice on PFN-mapped memory (VmFlags pf).</summary>
    PfnMap,

    /// <summary>LRU advice on hugetlbfs memory (VmFlags ht).</summary>
    HugeTlb,

    /// <summary>LRU advice on device (I/O) memory (VmFlags io).</summary>
    DeviceMemory,

    /// <summary>Discarding advice on sealed read-only anonymous memory (VmFlags sl).</summary>
    Sealed,

    /// <summary>Collapse without a whole aligned PMD huge page (<see cref="RangeSkip.HugePageSize"/>) inside the range.</summary>
    NoHugeBlock,
}

/// <summary>Why a range is not sent: the kind, the advice and the range, and the limit it broke.</summary>
internal sealed record RangeSkip(SkipKind Kind, MemoryAdvice Advice, ulong Start, long Length, ulong UserSpaceEnd = 0, long HugePageSize = 0);

/// <summary>Which ranges an advice can take, decided before anything is sent.</summary>
internal static class AdvicePolicy
{
    // x86_64 and arm64 put the kernel in the upper half; an iovec there fails the whole
    // process_madvise call with EFAULT before any range is advised ([vsyscall] is one).
    private const ulong UserSpaceEnd = 0x0100_0000_0000_0000;

    /// <summary>Why the range is not sent, or null when it should be.</summary>
    /// <param name="geometry">The page sizes to judge by; null for the running kernel's.</param>
    public static RangeSkip? Skip(MemoryAdvice advice, ulong start, long length, VmFlags? flags, MappingKind? kind, PageGeometry? geometry = null)
    {
        if (length <= 0)
        {
            return new RangeSkip(SkipKind.Empty, advice, start, length);
        }

        if (kind == MappingKind.Vsyscall)
        {
            return new RangeSkip(SkipKind.Vsyscall, advice, start, length);
        }

        if ((ulong)length > ulong.MaxValue - start)
        {
            return new RangeSkip(SkipKind.PastAddressSpace, advice, start, length);
        }

        if (start >= UserSpaceEnd || start + (ulong)length > UserSpaceEnd)
        {
            return new RangeSkip(SkipKind.KernelHalf, advice, start, length, UserSpaceEnd);
        }

        AdviceFact fact = AdviceFacts.Of(advice);
        if (fact.NeedsLruPages && flags is VmFlags f)
        {
            // can_madv_lru_vma() (mm/madvise.c): !(vm_flags & (VM_LOCKED|VM_PFNMAP|VM_HUGETLB)),
            // and VM_IO mappings are PFN maps of device memory. The kernel answers EINVAL and
            // stops walking the VMAs of that iovec.
            if ((f & VmFlags.Locked) != 0) return new RangeSkip(SkipKind.Locked, advice, start, length);
            if ((f & VmFlags.PfnMap) != 0) return new RangeSkip(SkipKind.PfnMap, advice, start, length);
            if ((f & VmFlags.HugeTlb) != 0) return new RangeSkip(SkipKind.HugeTlb, advice, start, length);
            if ((f & VmFlags.IO) != 0) return new RangeSkip(SkipKind.DeviceMemory, advice, start, length);
        }

        // mseal(2) (6.10): the kernel refuses discarding advice with EPERM on a sealed VMA that
        // is read-only anonymous memory (is_ro_anon in mm/mseal.c: no file, not shared, not
        // writable), where it would act as a write.
        if (fact.DestroysData && flags is VmFlags s && (s & VmFlags.Sealed) != 0
            && (s & (VmFlags.Write | VmFlags.Shared)) == 0
            && kind is null or MappingKind.Anonymous or MappingKind.Heap or MappingKind.Stack or MappingKind.NamedAnonymous)
        {
            return new RangeSkip(SkipKind.Sealed, advice, start, length);
        }

        if (advice == MemoryAdvice.Collapse)
        {
            ulong huge = (ulong)(geometry ?? PageGeometry.System).HugePageSize;
            ulong alignedStart = (start + huge - 1) & ~(huge - 1);
            if (alignedStart + huge > start + (ulong)length)
            {
                return new RangeSkip(SkipKind.NoHugeBlock, advice, start, length, HugePageSize: (long)huge);
            }
        }

        return null;
    }

    /// <summary>Whether a mapping of this kind belongs to the anonymous or the file-backed part of a process, as Android's compaction splits them (<see cref="MappingKinds.Selects"/>).</summary>
    public static bool Selects(MappingSelection selection, MappingKind kind) => MappingKinds.Selects(selection, kind);
}
