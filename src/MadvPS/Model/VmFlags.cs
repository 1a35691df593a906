using System;

namespace MadvPS;

/// <summary>
/// The two-letter codes of the smaps <c>VmFlags:</c> line (fs/proc/task_mmu.c, show_smap_vma_flags).
/// Codes this enum does not know are kept in <see cref="MemoryMapping.UnknownVmFlags"/>.
/// </summary>
[Flags]
public enum VmFlags : ulong
{
    None = 0,
    Read = 1UL << 0,            // rd
    Write = 1UL << 1,           // wr
    Execute = 1UL << 2,         // ex
    Shared = 1UL << 3,          // sh
    MayRead = 1UL << 4,         // mr
    MayWrite = 1UL << 5,        // mw
    MayExecute = 1UL << 6,      // me
    MayShare = 1UL << 7,        // ms
    GrowsDown = 1UL << 8,       // gd
    PfnMap = 1UL << 9,          // pf
    Locked = 1UL << 10,         // lo
    IO = 1UL << 11,             // io
    SequentialRead = 1UL << 12, // sr
    RandomRead = 1UL << 13,     // rr
    DontCopy = 1UL << 14,       // dc
    DontExpand = 1UL << 15,     // de
    Accountable = 1UL << 16,    // ac
    NoReserve = 1UL << 17,      // nr
    HugeTlb = 1UL << 18,        // ht
    SyncFault = 1UL << 19,      // sf
    ArchSpecific = 1UL << 20,   // ar
    WipeOnFork = 1UL << 21,     // wf
    DontDump = 1UL << 22,       // dd
    SoftDirty = 1UL << 23,      // sd
    MixedMap = 1UL << 24,       // mm
    HugePage = 1UL << 25,       // hg
    NoHugePage = 1UL << 26,     // nh
    Mergeable = 1UL << 27,      // mg
    UffdMissing = 1UL << 28,    // um
    UffdWriteProtect = 1UL << 29, // uw
    UffdMinor = 1UL << 30,      // ui
    ArmBti = 1UL << 31,         // bt
    ArmMte = 1UL << 32,         // mt
    ShadowStack = 1UL << 33,    // ss
    Sealed = 1UL << 34,         // sl
    LockOnFault = 1UL << 35,    // lf
    Droppable = 1UL << 36,      // dp
    GuardRegions = 1UL << 37,   // gu
}
