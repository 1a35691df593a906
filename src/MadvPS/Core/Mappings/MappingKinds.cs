using System;

namespace MadvPS.Core;

/// <summary>
/// What a mapping's kind means, in one place: how the smaps header's name makes a
/// <see cref="MappingKind"/>, and which kinds the Anonymous and File selections take (the advice
/// policy's selection and clear_refs's reach both draw the line here).
/// </summary>
internal static class MappingKinds
{
    /// <summary>The kind of a mapping from its decoded name, inode and permissions.</summary>
    public static MappingKind Classify(string path, ulong inode, string permissions)
    {
        if (path.Length == 0)
        {
            return MappingKind.Anonymous;
        }

        if (path[0] == '[')
        {
            return path switch
            {
                "[heap]" => MappingKind.Heap,
                "[vdso]" => MappingKind.Vdso,
                "[vsyscall]" => MappingKind.Vsyscall,
                _ when path.StartsWith("[stack", StringComparison.Ordinal) => MappingKind.Stack,
                _ when path.StartsWith("[vvar", StringComparison.Ordinal) => MappingKind.Vvar,
                _ when path.StartsWith("[anon:", StringComparison.Ordinal) => MappingKind.NamedAnonymous,
                _ when path.StartsWith("[anon_shmem:", StringComparison.Ordinal) => MappingKind.SharedMemory,
                _ => MappingKind.Special,
            };
        }

        if (path.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            return MappingKind.Memfd;
        }

        // Shared anonymous memory is backed by shmem and shows as "/dev/zero (deleted)";
        // System V segments as "/SYSV<key> (deleted)".
        if (path.StartsWith("/SYSV", StringComparison.Ordinal)
            || path.StartsWith("/dev/shm/", StringComparison.Ordinal)
            || (path == "/dev/zero" && permissions.Length == 4 && permissions[3] == 's'))
        {
            return MappingKind.SharedMemory;
        }

        return MappingKind.File;
    }

    /// <summary>
    /// Whether a mapping of this kind belongs to the selection: All is the process's own memory
    /// (not the kernel's pages [vsyscall], [vvar], [vdso] or another bracketed kernel name);
    /// Anonymous and File split it by backing file (vma->vm_file), as Android's compaction and
    /// clear_refs 2 and 3 do, so memfds and shared memory count as files.
    /// </summary>
    public static bool Selects(MappingSelection selection, MappingKind kind) => selection switch
    {
        MappingSelection.All => !IsKernelPage(kind),
        MappingSelection.Anonymous => kind is MappingKind.Anonymous or MappingKind.Heap or MappingKind.Stack or MappingKind.NamedAnonymous,
        MappingSelection.File => kind is MappingKind.File or MappingKind.Memfd or MappingKind.SharedMemory,
        _ => throw new ArgumentOutOfRangeException(nameof(selection)),
    };

    /// <summary>Kinds that are kernel pages mapped into the process, not its memory.</summary>
    public static bool IsKernelPage(MappingKind kind) =>
        kind is MappingKind.Vsyscall or MappingKind.Vvar or MappingKind.Vdso or MappingKind.Special;
}
