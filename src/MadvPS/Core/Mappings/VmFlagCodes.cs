using System;
using System.Runtime.CompilerServices;

namespace MadvPS.Core;

/// <summary>The two-letter VmFlags codes of fs/proc/task_mmu.c (show_smap_vma_flags, v6.19).</summary>
internal static class VmFlagCodes
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static VmFlags FromCode(ReadOnlySpan<byte> code)
    {
        if (code.Length != 2)
        {
            return VmFlags.None;
        }

        return ((code[0] << 8) | code[1]) switch
        {
            0x7264 => VmFlags.Read,             // rd
            0x7772 => VmFlags.Write,            // wr
            0x6578 => VmFlags.Execute,          // ex
            0x7368 => VmFlags.Shared,           // sh
            0x6d72 => VmFlags.MayRead,          // mr
            0x6d77 => VmFlags.MayWrite,         // mw
            0x6d65 => VmFlags.MayExecute,       // me
            0x6d73 => VmFlags.MayShare,         // ms
            0x6764 => VmFlags.GrowsDown,        // gd
            0x7066 => VmFlags.PfnMap,           // pf
            0x6c6f => VmFlags.Locked,           // lo
            0x696f => VmFlags.IO,               // io
            0x7372 => VmFlags.SequentialRead,   // sr
            0x7272 => VmFlags.RandomRead,       // rr
            0x6463 => VmFlags.DontCopy,         // dc
            0x6465 => VmFlags.DontExpand,       // de
            0x6163 => VmFlags.Accountable,      // ac
            0x6e72 => VmFlags.NoReserve,        // nr
            0x6874 => VmFlags.HugeTlb,          // ht
            0x7366 => VmFlags.SyncFault,        // sf
            0x6172 => VmFlags.ArchSpecific,     // ar
            0x7766 => VmFlags.WipeOnFork,       // wf
            0x6464 => VmFlags.DontDump,         // dd
            0x7364 => VmFlags.SoftDirty,        // sd
            0x6d6d => VmFlags.MixedMap,         // mm
            0x6867 => VmFlags.HugePage,         // hg
            0x6e68 => VmFlags.NoHugePage,       // nh
            0x6d67 => VmFlags.Mergeable,        // mg
            0x756d => VmFlags.UffdMissing,      // um
            0x7577 => VmFlags.UffdWriteProtect, // uw
            0x7569 => VmFlags.UffdMinor,        // ui
            0x6274 => VmFlags.ArmBti,           // bt
            0x6d74 => VmFlags.ArmMte,           // mt
            0x7373 => VmFlags.ShadowStack,      // ss
            0x736c => VmFlags.Sealed,           // sl
            0x6c66 => VmFlags.LockOnFault,      // lf
            0x6470 => VmFlags.Droppable,        // dp
            0x6775 => VmFlags.GuardRegions,     // gu
            _ => VmFlags.None,
        };
    }
}
