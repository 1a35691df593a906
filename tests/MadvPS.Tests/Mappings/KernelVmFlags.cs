using System.Collections.Generic;
using System.Linq;

namespace MadvPS.Tests;

/// <summary>
/// The VmFlags mnemonics of /proc/PID/smaps as the kernel prints them, written for the tests from
/// fs/proc/task_mmu.c (show_smap_vma_flags, the mnemonics[] table, Linux v6.19; "gu" for
/// VM_MAYBE_GUARD arrived with the guard-region work). Each row is the kernel's flag name and the
/// member of <see cref="VmFlags"/> it must parse to. This is the tests' expected answer: it is not
/// the parser's own map (VmFlagCodes), so a code mapped to the wrong member fails.
/// </summary>
internal static class KernelVmFlags
{
    public static readonly (string Code, string KernelFlag, VmFlags Flag)[] Table =
    {
        ("rd", "VM_READ", VmFlags.Read),
        ("wr", "VM_WRITE", VmFlags.Write),
        ("ex", "VM_EXEC", VmFlags.Execute),
        ("sh", "VM_SHARED", VmFlags.Shared),
        ("mr", "VM_MAYREAD", VmFlags.MayRead),
        ("mw", "VM_MAYWRITE", VmFlags.MayWrite),
        ("me", "VM_MAYEXEC", VmFlags.MayExecute),
        ("ms", "VM_MAYSHARE", VmFlags.MayShare),
        ("gd", "VM_GROWSDOWN", VmFlags.GrowsDown),
        ("pf", "VM_PFNMAP", VmFlags.PfnMap),
        ("gu", "VM_MAYBE_GUARD", VmFlags.GuardRegions),
        ("lo", "VM_LOCKED", VmFlags.Locked),
        ("io", "VM_IO", VmFlags.IO),
        ("sr", "VM_SEQ_READ", VmFlags.SequentialRead),
        ("rr", "VM_RAND_READ", VmFlags.RandomRead),
        ("dc", "VM_DONTCOPY", VmFlags.DontCopy),
        ("de", "VM_DONTEXPAND", VmFlags.DontExpand),
        ("lf", "VM_LOCKONFAULT", VmFlags.LockOnFault),
        ("ac", "VM_ACCOUNT", VmFlags.Accountable),
        ("nr", "VM_NORESERVE", VmFlags.NoReserve),
        ("ht", "VM_HUGETLB", VmFlags.HugeTlb),
        ("sf", "VM_SYNC", VmFlags.SyncFault),
        ("ar", "VM_ARCH_1", VmFlags.ArchSpecific),
        ("wf", "VM_WIPEONFORK", VmFlags.WipeOnFork),
        ("dd", "VM_DONTDUMP", VmFlags.DontDump),
        ("bt", "VM_ARM64_BTI", VmFlags.ArmBti),
        ("sd", "VM_SOFTDIRTY", VmFlags.SoftDirty),
        ("mm", "VM_MIXEDMAP", VmFlags.MixedMap),
        ("hg", "VM_HUGEPAGE", VmFlags.HugePage),
        ("nh", "VM_NOHUGEPAGE", VmFlags.NoHugePage),
        ("mg", "VM_MERGEABLE", VmFlags.Mergeable),
        ("um", "VM_UFFD_MISSING", VmFlags.UffdMissing),
        ("uw", "VM_UFFD_WP", VmFlags.UffdWriteProtect),
        ("mt", "VM_MTE", VmFlags.ArmMte),
        ("ui", "VM_UFFD_MINOR", VmFlags.UffdMinor),
        ("ss", "VM_SHADOW_STACK", VmFlags.ShadowStack),
        ("dp", "VM_DROPPABLE", VmFlags.Droppable),
        ("sl", "VM_SEALED", VmFlags.Sealed),
    };

    private static readonly Dictionary<string, VmFlags> s_byCode = Table.ToDictionary(r => r.Code, r => r.Flag);

    /// <summary>The member a code stands for, or None for a code the kernel does not print.</summary>
    public static VmFlags Lookup(string code) => s_byCode.TryGetValue(code, out VmFlags flag) ? flag : VmFlags.None;
}
