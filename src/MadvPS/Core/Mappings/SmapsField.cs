using System;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace MadvPS.Core;

/// <summary>
/// The size fields of an smaps or smaps_rollup entry, in the kernel's order (__show_smap,
/// fs/proc/task_mmu.c). This is the one list of them: the parser's keys come from it (a member's
/// name, or its <see cref="SmapsKeyAttribute"/> where the kernel spells it otherwise), and the
/// parsed values travel as one <see cref="SmapsSizes"/> into MemoryMapping, ProcessMemory and
/// MemoryAccess, whose public properties read them by member. Adding a field is one line here
/// (and a property where it should show).
/// </summary>
internal enum SmapsField
{
    Size,
    KernelPageSize,
    MMUPageSize,
    Rss,
    Pss,
    [SmapsKey("Pss_Dirty")] PssDirty,
    [SmapsKey("Pss_Anon")] PssAnon,
    [SmapsKey("Pss_File")] PssFile,
    [SmapsKey("Pss_Shmem")] PssShmem,
    [SmapsKey("Shared_Clean")] SharedClean,
    [SmapsKey("Shared_Dirty")] SharedDirty,
    [SmapsKey("Private_Clean")] PrivateClean,
    [SmapsKey("Private_Dirty")] PrivateDirty,
    Referenced,
    Anonymous,
    [SmapsKey("KSM")] Ksm,
    LazyFree,
    AnonHugePages,
    ShmemPmdMapped,
    FilePmdMapped,
    [SmapsKey("Shared_Hugetlb")] SharedHugetlb,
    [SmapsKey("Private_Hugetlb")] PrivateHugetlb,
    Swap,
    SwapPss,
    Locked,

    /// <summary>The number of fields; not a key.</summary>
    Count,
}

/// <summary>The kernel's key of a <see cref="SmapsField"/> whose name is not the key.</summary>
[AttributeUsage(AttributeTargets.Field)]
internal sealed class SmapsKeyAttribute : Attribute
{
    public SmapsKeyAttribute(string key) => Key = key;

    public string Key { get; }
}

/// <summary>
/// The values of every <see cref="SmapsField"/> in bytes, inline: an entry's sizes are copied into
/// a mapping object as one block, and the object needs no array of its own.
/// </summary>
[InlineArray((int)SmapsField.Count)]
internal struct SmapsSizes
{
    private long _first;
}

/// <summary>The keys of the size fields as the kernel prints them, in its order, built from <see cref="SmapsField"/>.</summary>
internal static class SmapsKeys
{
    public static readonly (byte[] Key, SmapsField Field)[] All = Build();

    private static (byte[] Key, SmapsField Field)[] Build() =>
        Enum.GetValues<SmapsField>()
            .Where(field => field != SmapsField.Count)
            .Select(field => (Encoding.ASCII.GetBytes(KeyOf(field)), field))
            .ToArray();

    private static string KeyOf(SmapsField field)
    {
        string name = field.ToString();
        return typeof(SmapsField).GetField(name)!.GetCustomAttribute<SmapsKeyAttribute>()?.Key ?? name;
    }
}
