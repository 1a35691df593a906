using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>Where the mappings of a whole-process advice were listed from.</summary>
internal enum MappingSource
{
    /// <summary>/proc/PID/maps: no sizes, no VmFlags, about a tenth of the kernel's time of smaps.</summary>
    Maps,
    /// <summary>/proc/PID/smaps: needed when some mapping's VmFlags could make the advice skip it.</summary>
    Smaps,
}

/// <summary>Why smaps was read rather than maps.</summary>
internal enum SmapsCauseKind
{
    /// <summary>The process has locked memory (VmLck is <see cref="SmapsCause.LockedBytes"/>).</summary>
    LockedMemory,
    /// <summary>Its VmLck could not be read.</summary>
    LockedUnknown,
    /// <summary>A selected mapping (Start, End, Path) is not anonymous memory or a regular file on a page-cache filesystem.</summary>
    NotPageCache,
}

/// <summary>Why smaps was read rather than maps: the kind, and the figure or the mapping behind it.</summary>
internal sealed record SmapsCause(SmapsCauseKind Kind, long LockedBytes = 0, ulong Start = 0, ulong End = 0, string Path = "");

/// <summary>
/// Lists the mappings of a process into an <see cref="AdvicePlan"/> for Set-ProcessMadvise, from
/// /proc/PID/maps whenever that gives the same plan as smaps, which costs the kernel ten times as
/// much (it walks every page table to print the sizes).
/// </summary>
/// <remarks>
/// The plan needs VmFlags only for advice that works on LRU pages (Cold, PageOut), which the
/// kernel refuses on VM_LOCKED, VM_PFNMAP, VM_HUGETLB and VM_IO mappings (can_madv_lru_vma,
/// mm/madvise.c). maps shows no VmFlags, so it is used for such advice only when none of the
/// selected mappings can carry one of those flags (Linux 6.19 sources):
/// <list type="bullet">
/// <item>VM_LOCKED: every VM_LOCKED VMA is counted in mm->locked_vm (__mmap_region in mm/vma.c,
/// mlock_fixup in mm/mlock.c), which /proc/PID/status prints as VmLck; VmLck 0 means none.</item>
/// <item>VM_HUGETLB: only hugetlbfs files have it (MAP_HUGETLB, SHM_HUGETLB and MFD_HUGETLB make
/// one on an internal hugetlbfs mount).</item>
/// <item>VM_PFNMAP and VM_IO: set by a driver's mmap (a device node, sysfs, an anon_inode, a dma-buf)
/// or on the kernel's special mappings ([vvar]), which Set-ProcessMadvise never selects.</item>
/// </list>
/// So a selected mapping passes when it is anonymous ([heap], [stack], [anon:…], [anon_shmem:…] or
/// no name), or when the file it maps, reached through /proc/PID/map_files (which needs
/// CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), is a regular file on a filesystem that keeps its pages
/// in the page cache or shmem. Anything else, or anything that cannot be checked, reads smaps.
/// </remarks>
internal static class AdviceMappings
{
    /// <summary>
    /// Adds the mappings of <paramref name="process"/> that <paramref name="selection"/> takes to
    /// <paramref name="plan"/>, in address order, and says where they were read from.
    /// </summary>
    public static MappingSource Collect(ProcessStat process, string processName, MappingSelection selection, AdvicePlan plan) =>
        Collect(process, processName, selection, plan, out _);

    /// <param name="smapsReason">Why smaps was read (the first mapping maps could not clear), or null.</param>
    /// <param name="stopping">Checked between mappings of smaps; when it says stop, the listing ends part way.</param>
    public static MappingSource Collect(ProcessStat process, string processName, MappingSelection selection, AdvicePlan plan, out SmapsCause? smapsReason, Func<bool>? stopping = null)
    {
        using ProcDirectory directory = ProcDirectory.Open(process);
        smapsReason = TryCollectFromMaps(directory, process, selection, plan);
        if (smapsReason is null)
        {
            return MappingSource.Maps;
        }

        foreach (MemoryMapping mapping in MappingReader.ReadMappings(directory, process, processName))
        {
            if (stopping?.Invoke() == true)
            {
                break;
            }

            if (AdvicePolicy.Selects(selection, mapping.Kind))
            {
                plan.Add(mapping.Start, mapping.Size, mapping.Path, mapping.VmFlags, mapping.Kind);
                plan.Ranges[^1].Figures = ResidentFigures.Of(mapping);
            }
        }

        return MappingSource.Smaps;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    // Null when the plan was filled from maps, else why smaps is needed (and the plan is untouched).
    private static SmapsCause? TryCollectFromMaps(ProcDirectory directory, ProcessStat process, MappingSelection selection, AdvicePlan plan)
    {
        string root = directory.Path;
        bool needsFlags = AdviceFacts.Of(plan.Advice).NeedsLruPages;
        long locked = needsFlags ? LockedBytes(root) : 0;
        if (locked != 0)
        {
            return locked > 0 ? new SmapsCause(SmapsCauseKind.LockedMemory, LockedBytes: locked) : new SmapsCause(SmapsCauseKind.LockedUnknown);
        }

        var ranges = new List<(ulong Start, ulong End, string Path, MappingKind Kind)>();
        var files = new Dictionary<(string Device, ulong Inode), bool>();
        foreach (SmapsEntry entry in MappingReader.ReadMapsEntries(directory, process))
        {
            if (!AdvicePolicy.Selects(selection, entry.Kind))
            {
                continue;
            }

            if (needsFlags && !CannotBeLruExcluded(entry, root, files))
            {
                return new SmapsCause(SmapsCauseKind.NotPageCache, Start: entry.Start, End: entry.End, Path: entry.Path);
            }

            ranges.Add((entry.Start, entry.End, entry.Path, entry.Kind));
        }

        foreach ((ulong start, ulong end, string path, MappingKind kind) in ranges)
        {
            // No VmFlags: none of the selected mappings can carry the flags that make Cold or
            // PageOut skip a range, and no other advice looks at them.
            plan.Add(start, (long)(end - start), path, flags: null, kind);
        }

        return null;
    }

    /// <summary>VmLck of /proc/PID/status in bytes: 0 when the process has no VM_LOCKED mapping (or no mm); -1 when it cannot be read.</summary>
    internal static long LockedBytes(string processDirectory)
    {
        try
        {
            foreach (string line in File.ReadLines($"{processDirectory}/status"))
            {
                if (line.StartsWith("VmLck:", StringComparison.Ordinal))
                {
                    ReadOnlySpan<char> value = line.AsSpan(6).Trim();
                    if (value.EndsWith(" kB", StringComparison.Ordinal)
                        && long.TryParse(value[..^3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kilobytes))
                    {
                        return kilobytes * 1024;
                    }

                    return -1;
                }
            }

            // A kernel thread: no mm, so no VmLck line and no mappings.
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    // Whether the mapping can be proved not to be VM_PFNMAP, VM_IO or VM_HUGETLB (VM_LOCKED is
    // ruled out for the whole process by VmLck).
    private static bool CannotBeLruExcluded(SmapsEntry entry, string root, Dictionary<(string Device, ulong Inode), bool> files)
    {
        switch (entry.Kind)
        {
            case MappingKind.Anonymous:
            // No name: no file (show_map_vma prints the path of every file mapping).
            case MappingKind.Heap:
            case MappingKind.Stack:
            case MappingKind.NamedAnonymous:
                return true;
            case MappingKind.SharedMemory when entry.Path.StartsWith("[anon_shmem:", StringComparison.Ordinal):
                // Only shmem can be named so (madvise_set_anon_name refuses other files).
                return true;
        }

        if (entry.Path.Length == 0 || entry.Path[0] == '[')
        {
            return false;
        }

        if (files.TryGetValue((entry.Device, entry.Inode), out bool plain))
        {
            return plain;
        }

        bool? check = IsPageCacheFile($"{root}/map_files/{entry.Start:x}-{entry.End:x}");
        if (check is null)
        {
            // ENOENT: no VMA has these bounds any more; it was unmapped or changed after maps was
            // read (the runtime's JIT double-maps code through a memfd all the time). It is left
            // in the plan as smaps would have left it had it been read a moment earlier; another
            // mapping of the same file is checked in its own right.
            return true;
        }

        files[(entry.Device, entry.Inode)] = check.Value;
        return check.Value;
    }

    /// <summary>
    /// Whether the file is a regular file on a filesystem that keeps its pages in the page cache
    /// (or shmem): false when it is not or cannot be told; null when it does not exist (ENOENT).
    /// </summary>
    internal static bool? IsPageCacheFile(string path)
    {
        byte[] bytes = FileNameBytes.ToNulTerminated(path);
        SysResult mode = Libc.StatMode(bytes);
        if (mode.Failed)
        {
            return mode.Errno == (int)Errno.ENOENT ? null : false;
        }

        if ((mode.Value & FileType.Mask) != FileType.Regular)
        {
            return false;
        }

        SysResult type = Libc.FilesystemType(bytes);
        if (type.Failed)
        {
            return type.Errno == (int)Errno.ENOENT ? null : false;
        }

        return FilesystemMagic.PageCache.Contains(type.Value);
    }
}
