using System;

namespace MadvPS.Core;

/// <summary>Which ranges an advice can take, decided before anything is sent.</summary>
internal static class AdvicePolicy
{
    // x86_64 and arm64 put the kernel in the upper half; an iovec there fails the whole
    // process_madvise call with EFAULT before any range is advised ([vsyscall] is one).
    private const ulong UserSpaceEnd = 0x0100_0000_0000_0000;

    /// <summary>Why the range is not sent, or null when it should be.</summary>
    /// <param name="geometry">The page sizes to judge by; null for the running kernel's.</param>
    public static string? SkipReason(MemoryAdvice advice, ulong start, long length, VmFlags? flags, MappingKind? kind, PageGeometry? geometry = null)
    {
        if (length <= 0)
        {
            return "The range is empty.";
        }

        if (kind == MappingKind.Vsyscall)
        {
            return "[vsyscall] lies in the kernel's half of the address space; the kernel would fail the whole call with EFAULT.";
        }

        if ((ulong)length > ulong.MaxValue - start)
        {
            return $"Start 0x{start:x} plus Size {length} passes 2^64: no address space holds this range. Check -Address and -Length.";
        }

        if (start >= UserSpaceEnd || start + (ulong)length > UserSpaceEnd)
        {
            return $"The range 0x{start:x}-0x{start + (ulong)length:x} reaches into the kernel's half of the address space (user space ends below 0x{UserSpaceEnd:x} even with 5-level page tables); the kernel would fail the whole call with EFAULT.";
        }

        AdviceFact fact = AdviceFacts.Of(advice);
        if (fact.NeedsLruPages && flags is VmFlags f)
        {
            // can_madv_lru_vma() (mm/madvise.c): !(vm_flags & (VM_LOCKED|VM_PFNMAP|VM_HUGETLB)),
            // and VM_IO mappings are PFN maps of device memory. The kernel answers EINVAL and
            // stops walking the VMAs of that iovec.
            if ((f & VmFlags.Locked) != 0) return $"{advice} does not apply to locked (mlocked) memory: VmFlags 'lo'.";
            if ((f & VmFlags.PfnMap) != 0) return $"{advice} does not apply to PFN-mapped memory: VmFlags 'pf'.";
            if ((f & VmFlags.HugeTlb) != 0) return $"{advice} does not apply to hugetlbfs memory: VmFlags 'ht'.";
            if ((f & VmFlags.IO) != 0) return $"{advice} does not apply to device (I/O) memory: VmFlags 'io'.";
        }

        // mseal(2) (6.10): the kernel refuses discarding advice with EPERM on a sealed VMA that
        // is read-only anonymous memory (is_ro_anon in mm/mseal.c: no file, not shared, not
        // writable), where it would act as a write.
        if (fact.DestroysData && flags is VmFlags s && (s & VmFlags.Sealed) != 0
            && (s & (VmFlags.Write | VmFlags.Shared)) == 0
            && kind is null or MappingKind.Anonymous or MappingKind.Heap or MappingKind.Stack or MappingKind.NamedAnonymous)
        {
            return $"{advice} is refused on sealed (mseal) read-only anonymous memory: VmFlags 'sl'.";
        }

        if (advice == MemoryAdvice.Collapse)
        {
            ulong huge = (ulong)(geometry ?? PageGeometry.System).HugePageSize;
            ulong alignedStart = (start + huge - 1) & ~(huge - 1);
            if (alignedStart + huge > start + (ulong)length)
            {
                string size = Display.Bytes((long)huge);
                return $"Collapse needs a {size}-aligned {size} block (this kernel's PMD huge page) inside the range; this range holds none.";
            }
        }

        return null;
    }

    /// <summary>Whether a mapping of this kind belongs to the anonymous or the file-backed part of a process, as Android's compaction splits them (<see cref="MappingKinds.Selects"/>).</summary>
    public static bool Selects(MappingSelection selection, MappingKind kind) => MappingKinds.Selects(selection, kind);
}
